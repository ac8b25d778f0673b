import { Body, Controller, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { API_TAGS } from '../api-docs/tags';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { CreateProvenanceDto } from '../records/dto/create-provenance.dto';
import { PROVENANCE } from '../records/record-kinds';
import { RecordView } from '../records/record.presenter';
import { RecordsController } from '../records/records.controller';
import { RecordsService } from '../records/records.service';

/** Provenance is append-only: records are created and read, never changed or deleted. */
@ApiTags(API_TAGS.provenance.name)
@Controller('v1/provenance')
export class ProvenanceController extends RecordsController {
  constructor(records: RecordsService) {
    super(records, PROVENANCE);
  }

  @Post()
  @ApiOperation({ summary: 'Create a provenance record', description: 'Records where a dataset or model card comes from. Provenance records are never changed or deleted.' })
  @ApiCreatedResponse({ type: RecordView })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateProvenanceDto) {
    const { subject, ...record } = dto;
    return this.records.create(principal, this.kind, record, subject);
  }
}
