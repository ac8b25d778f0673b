import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags,
} from '@nestjs/swagger';
import { API_TAGS } from '../api-docs/tags';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { ManagesKeys } from '../auth/key-manager.guard';
import type { Principal } from '../auth/principal';
import { ApiConflictError, ApiErrorResponse, ApiErrorResponses, ApiForbiddenError } from '../errors/api-error-responses.decorator';
import { ApiPageResponse } from '../pagination/api-page-response.decorator';
import { ListQueryDto } from '../pagination/list-query.dto';
import { CreateWebhookDto } from './dto/create-webhook.dto';
import { RotateWebhookSecretDto } from './dto/rotate-webhook-secret.dto';
import { CreatedWebhookView, WebhookAttemptView, WebhookView } from './webhook.presenter';
import { WebhooksService } from './webhooks.service';

/** Every webhook route manages where the organization's events go: key managers only, reads included (URLs may carry tokens). */
@ApiTags(API_TAGS.webhooks.name)
@ApiBearerAuth()
@ApiErrorResponses()
// Joined by the document with the general 503 (database or store away): the two cases, one after the other.
@ApiErrorResponse(503, 'SERVICE_UNAVAILABLE: webhooks are not enabled on this service (its operator has not set WEBHOOK_SECRETS_KEY); the message says so.')
@ApiForbiddenError('a dashboard member without a key-manager role')
@ManagesKeys()
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({
    summary: 'Register a webhook endpoint',
    description:
      'Events of the chosen types are POSTed to `url`, signed as Standard Webhooks define. The URL must be https:// on a public ' +
      'address (checked now, and again at each delivery). The response carries the signing secret (`secret`) this once: store it now.',
  })
  @ApiConflictError(`the organization already has the maximum number of webhook endpoints`)
  @ApiCreatedResponse({ type: CreatedWebhookView, description: 'The endpoint, with its signing secret shown this once' })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateWebhookDto) {
    return this.webhooks.create(principal, dto);
  }

  @Get()
  @ApiOperation({ summary: 'List webhook endpoints', description: 'Endpoints of your organization, newest first. Never a secret.' })
  @ApiPageResponse(WebhookView)
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListQueryDto) {
    return this.webhooks.list(principal, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a webhook endpoint', description: 'One endpoint, with whether it is enabled. Never its secret.' })
  @ApiOkResponse({ type: WebhookView })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.webhooks.get(principal, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a webhook endpoint', description: 'Stops deliveries to it at once, including retries still due, and deletes its history.' })
  @ApiNoContentResponse({ description: 'Deleted' })
  remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.webhooks.remove(principal, id);
  }

  @Post(':id/rotate-secret')
  @ApiOperation({
    summary: "Rotate a webhook endpoint's signing secret",
    description:
      'Issues a new secret, shown this once. For `grace_period_seconds` (default one day) deliveries carry two signatures, by the ' +
      'new and the old secret, so a receiver verifying with either accepts them. The body is optional.',
  })
  @ApiBody({ type: RotateWebhookSecretDto, required: false })
  @ApiCreatedResponse({ type: CreatedWebhookView, description: 'The endpoint, with its new signing secret shown this once' })
  rotateSecret(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: RotateWebhookSecretDto) {
    return this.webhooks.rotateSecret(principal, id, dto.grace_period_seconds);
  }

  @Post(':id/enable')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Re-enable a webhook endpoint',
    description: 'Turns on an endpoint that was disabled after failing deliveries; events from now on reach it. Harmless on an enabled one.',
  })
  @ApiOkResponse({ type: WebhookView })
  enable(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.webhooks.enable(principal, id);
  }

  @Get(':id/deliveries')
  @ApiOperation({
    summary: 'List delivery attempts of a webhook endpoint',
    description: 'Every attempt, newest first: when, the status your endpoint answered or why it failed, how long it took, and what followed.',
  })
  @ApiPageResponse(WebhookAttemptView)
  deliveries(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: ListQueryDto) {
    return this.webhooks.attempts(principal, id, query);
  }
}
