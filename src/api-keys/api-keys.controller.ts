import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { API_TAGS } from '../api-docs/tags';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { ManagesKeys } from '../auth/key-manager.guard';
import type { Principal } from '../auth/principal';
import { ApiConflictError, ApiErrorResponses, ApiForbiddenError } from '../errors/api-error-responses.decorator';
import { ApiPageResponse } from '../pagination/api-page-response.decorator';
import { ListQueryDto } from '../pagination/list-query.dto';
import { ApiKeyView, CreatedApiKeyView } from './api-key.presenter';
import { ApiKeysService } from './api-keys.service';
import { CreateApiKeyDto } from './dto/create-api-key.dto';
import { RotateApiKeyDto } from './dto/rotate-api-key.dto';
import { UsageQueryDto } from './dto/usage-query.dto';
import { UsageService } from './usage/usage.service';
import { UsageView } from './usage/usage.view';

const MANAGER_ONLY = 'a dashboard member without a key-manager role';

@ApiTags(API_TAGS.apiKeys.name)
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
  @ApiOperation({
    summary: 'Create an API key',
    description: 'Issues a key for your organization. The response carries the secret (`key`) this once: store it now. ' +
      '`rate_limit` may only make the key stricter than the service default.',
  })
  @ApiForbiddenError(MANAGER_ONLY)
  @ApiConflictError('the organization already holds the maximum number of active keys')
  @ApiCreatedResponse({ type: CreatedApiKeyView, description: 'The key, with its secret shown this once' })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateApiKeyDto) {
    return this.keys.create(principal, dto);
  }

  @Get()
  @ApiOperation({ summary: 'List API keys', description: 'Keys of your organization, newest first, revoked ones included. Never a secret.' })
  @ApiPageResponse(ApiKeyView)
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListQueryDto) {
    return this.keys.list(principal, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get an API key', description: 'One key of your organization, without its secret.' })
  @ApiOkResponse({ type: ApiKeyView })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.keys.get(principal, id);
  }

  @Delete(':id')
  @ManagesKeys()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Revoke an API key',
    description: 'Stops the key at once, on every instance; requests in flight with it are refused too. Repeating the call is harmless.',
  })
  @ApiForbiddenError(MANAGER_ONLY)
  @ApiOkResponse({ type: ApiKeyView, description: 'The revoked key; repeating the call is harmless' })
  revoke(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.keys.revoke(principal, id);
  }

  @Post(':id/rotate')
  @ManagesKeys()
  @ApiOperation({
    summary: 'Rotate an API key',
    description: 'Issues a new key in place of this one, with its name, environment, limit and expiry. The old key stops now, ' +
      'or after `grace_period_seconds`. The body is optional.',
  })
  @ApiBody({ type: RotateApiKeyDto, required: false })
  @ApiForbiddenError(`${MANAGER_ONLY}, or an API key that expires before the key it rotates`)
  @ApiConflictError('the key is revoked or expired, or a grace period would take the organization over its active-key maximum')
  @ApiCreatedResponse({ type: CreatedApiKeyView, description: 'The new key, with its secret shown this once' })
  rotate(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: RotateApiKeyDto) {
    return this.keys.rotate(principal, id, dto.grace_period_seconds ?? 0);
  }

  @Get(':id/usage')
  @ApiOperation({
    summary: 'Get the usage of an API key',
    description:
      'Requests admitted and refused (429) per minute, hour or day, oldest first. Usage reaches this view within seconds. '
      + 'Hour buckets also give the distinct client IPs of the hour and its flags: `usage_spike` (far more requests than the key\'s usual hour) '
      + 'and `many_ips` (far more client IPs than usual), signs of a stolen key; `flags` lists those of the range at any granularity.',
  })
  @ApiOkResponse({ type: UsageView, description: 'Requests counted per bucket, oldest first' })
  usageOf(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: UsageQueryDto) {
    return this.usage.forKey(principal, id, query);
  }
}
