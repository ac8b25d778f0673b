import { Controller } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { API_TAGS } from '../api-docs/tags';
import { CERTIFICATIONS } from '../records/record-kinds';
import { EditableRecordsController } from '../records/records.controller';
import { RecordsService } from '../records/records.service';

@ApiTags(API_TAGS.certifications.name)
@Controller('v1/certifications')
export class CertificationsController extends EditableRecordsController {
  constructor(records: RecordsService) {
    super(records, CERTIFICATIONS);
  }
}
