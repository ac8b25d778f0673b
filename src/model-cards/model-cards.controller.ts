import { Controller } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { MODEL_CARDS } from '../records/record-kinds';
import { EditableRecordsController } from '../records/records.controller';
import { RecordsService } from '../records/records.service';

@ApiTags('Model cards (Enterprise)')
@Controller('v1/model-cards')
export class ModelCardsController extends EditableRecordsController {
  constructor(records: RecordsService) {
    super(records, MODEL_CARDS);
  }
}
