import { Controller } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CERTIFICATIONS } from '../records/record-kinds';
import { EditableRecordsController } from '../records/records.controller';
import { RecordsService } from '../records/records.service';

@ApiTags('Certification reports (Enterprise)')
@Controller('v1/certifications')
export class CertificationsController extends EditableRecordsController {
  constructor(records: RecordsService) {
    super(records, CERTIFICATIONS);
  }
}
