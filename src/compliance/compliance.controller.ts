import { Controller } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { API_TAGS } from '../api-docs/tags';
import { COMPLIANCE } from '../records/record-kinds';
import { EditableRecordsController } from '../records/records.controller';
import { RecordsService } from '../records/records.service';

/** Compliance assessments, at the root of the compliance engine's prefix. */
@ApiTags(API_TAGS.compliance.name)
@Controller('v1/compliance')
export class ComplianceController extends EditableRecordsController {
  constructor(records: RecordsService) {
    super(records, COMPLIANCE);
  }
}
