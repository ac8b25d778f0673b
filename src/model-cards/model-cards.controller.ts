import { Controller } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { API_TAGS } from '../api-docs/tags';
import { MODEL_CARDS } from '../records/record-kinds';
import { EditableRecordsController } from '../records/records.controller';
import { RecordsService } from '../records/records.service';

@ApiTags(API_TAGS.modelCards.name)
@Controller('v1/model-cards')
export class ModelCardsController extends EditableRecordsController {
  constructor(records: RecordsService) {
    super(records, MODEL_CARDS);
  }
}
