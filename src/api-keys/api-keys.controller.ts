import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { ManagesKeys } from '../auth/key-manager.guard';
import type { Principal } from '../auth/principal';
import { ApiErrorResponses } from '../errors/api-error-responses.decorator';
import { ApiPageResponse } from '../pagination/api-page-response.decorator';
import { ListQueryDto } from '../pagination/list-query.dto';
import { ApiKeyView, CreatedApiKeyView } from './api-key.presenter';
import { ApiKeysService } from './api-keys.service';
import { CreateApiKeyDto } from './dto/create-api-key.dto';
import { RotateApiKeyDto } from './dto/rotate-api-key.dto';
import { UsageQueryDto } from './dto/usage-query.dto';
import { UsageService } from './usage/usage.service';

@ApiTags('API keys')
@ApiBearerAuth()
@ApiErrorResponses()
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly usage: UsageService,
  ) {}

  @Post()
  @ManagesKeys()
  @ApiCreatedResponse({ type: CreatedApiKeyView, description: 'The key, with its secret shown this once' })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateApiKeyDto) {
    return this.keys.create(principal, dto);
  }

  @Get()
  @ApiPageResponse(ApiKeyView)
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListQueryDto) {
    return this.keys.list(principal, query);
  }

  @Get(':id')
  @ApiOkResponse({ type: ApiKeyView })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.keys.get(principal, id);
  }

  @Delete(':id')
  @ManagesKeys()
  @HttpCode(200)
  @ApiOkResponse({ type: ApiKeyView, description: 'The revoked key; repeating the call is harmless' })
  revoke(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.keys.revoke(principal, id);
  }

  @Post(':id/rotate')
  @ManagesKeys()
  @ApiCreatedResponse({ type: CreatedApiKeyView, description: 'The new key, with its secret shown this once' })
  rotate(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: RotateApiKeyDto) {
    return this.keys.rotate(principal, id, dto.grace_period_seconds ?? 0);
  }

  @Get(':id/usage')
  @ApiOkResponse({
    description: 'Requests counted per bucket, oldest first',
    schema: {
      type: 'object',
      required: ['data'],
      properties: {
        data: {
          type: 'array',
          items: {
            type: 'object',
            required: ['timestamp', 'requests', 'rate_limited'],
            properties: {
              timestamp: { type: 'string', format: 'date-time' },
              requests: { type: 'integer' },
              rate_limited: { type: 'integer' },
            },
          },
        },
      },
    },
  })
  usageOf(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: UsageQueryDto) {
    return this.usage.forKey(principal, id, query);
  }
}
