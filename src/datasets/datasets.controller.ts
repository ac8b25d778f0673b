import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { API_TAGS } from '../api-docs/tags';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { ApiErrorResponses } from '../errors/api-error-responses.decorator';
import { ApiPageResponse } from '../pagination/api-page-response.decorator';
import { ListQueryDto } from '../pagination/list-query.dto';
import { DatasetView } from './dataset.presenter';
import { DatasetsService } from './datasets.service';
import { CreateDatasetDto } from './dto/create-dataset.dto';

@ApiTags(API_TAGS.datasets.name)
@ApiBearerAuth()
@ApiErrorResponses()
@Controller('v1/datasets')
export class DatasetsController {
  constructor(private readonly datasets: DatasetsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a dataset', description: 'A named dataset of your organization (an audit event).' })
  @ApiCreatedResponse({ type: DatasetView })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateDatasetDto) {
    return this.datasets.create(principal, dto);
  }

  @Get()
  @ApiOperation({ summary: 'List datasets', description: 'Datasets of your organization, newest first.' })
  @ApiPageResponse(DatasetView)
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListQueryDto) {
    return this.datasets.list(principal, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a dataset', description: 'One dataset of your organization.' })
  @ApiOkResponse({ type: DatasetView })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.datasets.get(principal, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a dataset', description: 'Deletes the dataset for good (an audit event).' })
  @ApiNoContentResponse({ description: 'Deleted' })
  delete(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.datasets.delete(principal, id);
  }
}
