import { Body, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { ApiErrorResponses } from '../errors/api-error-responses.decorator';
import { ApiPageResponse } from '../pagination/api-page-response.decorator';
import { ListQueryDto } from '../pagination/list-query.dto';
import { EnterpriseOnly } from '../tiers/enterprise';
import { CreateRecordDto } from './dto/create-record.dto';
import { RecordKind } from './record-kinds';
import { RecordView } from './record.presenter';
import { RecordsService } from './records.service';

/**
 * The routes an Enterprise record collection shares (list and read); each capability's
 * controller adds its path, its create, and — unless its records are append-only — delete.
 */
@ApiBearerAuth()
@ApiErrorResponses()
@EnterpriseOnly()
export abstract class RecordsController {
  protected constructor(
    protected readonly records: RecordsService,
    protected readonly kind: RecordKind,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List records', description: "The collection's records of your organization, newest first." })
  @ApiPageResponse(RecordView)
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListQueryDto) {
    return this.records.list(principal, this.kind, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a record', description: 'One record of the collection, with its data.' })
  @ApiOkResponse({ type: RecordView })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.records.get(principal, this.kind, id);
  }
}

/** A collection whose records can be created from a name and data, and deleted. */
export abstract class EditableRecordsController extends RecordsController {
  @Post()
  @ApiOperation({ summary: 'Create a record', description: 'Stores a named record with its free-form JSON data (an object of at most 64 KiB).' })
  @ApiCreatedResponse({ type: RecordView })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateRecordDto) {
    return this.records.create(principal, this.kind, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a record', description: 'Deletes the record for good.' })
  @ApiNoContentResponse({ description: 'Deleted' })
  delete(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.records.delete(principal, this.kind, id);
  }
}
