import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { ApiErrorResponses } from '../errors/api-error-responses.decorator';
import { ApiPageResponse } from '../pagination/api-page-response.decorator';
import { ListQueryDto } from '../pagination/list-query.dto';
import { DatasetView } from './dataset.presenter';
import { DatasetsService } from './datasets.service';
import { CreateDatasetDto } from './dto/create-dataset.dto';

@ApiTags('Datasets')
@ApiBearerAuth()
@ApiErrorResponses()
@Controller('v1/datasets')
export class DatasetsController {
  constructor(private readonly datasets: DatasetsService) {}

  @Post()
  @ApiCreatedResponse({ type: DatasetView })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateDatasetDto) {
    return this.datasets.create(principal, dto);
  }

  @Get()
  @ApiPageResponse(DatasetView)
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListQueryDto) {
    return this.datasets.list(principal, query);
  }

  @Get(':id')
  @ApiOkResponse({ type: DatasetView })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.datasets.get(principal, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  delete(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.datasets.delete(principal, id);
  }
}
