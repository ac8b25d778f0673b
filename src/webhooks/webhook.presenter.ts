import { ApiProperty } from '@nestjs/swagger';
import type { WebhookAttempt, WebhookEndpoint } from '../generated/prisma/client';
import { WEBHOOK_EVENT_TYPES } from './webhook-event-types';

export const FAILURE_KINDS = ['http_status', 'timeout', 'connection_failed', 'dns_failed', 'address_refused', 'tls_failed', 'secret_unreadable'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** A webhook endpoint as its organization sees it: never its secret, sealed or not. */
export class WebhookView {
  @ApiProperty({ example: 'whk_0193a1b2c3d4e5f60718293a4b5c' }) id!: string;
  @ApiProperty({ enum: ['webhook_endpoint'] }) object!: 'webhook_endpoint';
  @ApiProperty({ example: 'https://example.com/hooks/lucitra' }) url!: string;
  @ApiProperty({ type: 'array', items: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] } }) event_types!: string[];
  @ApiProperty({ description: 'false once disabled after failing deliveries in a row; POST …/enable turns it back on' }) enabled!: boolean;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) disabled_at!: string | null;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Deliveries given up in a row since the last success' }) consecutive_failures!: number;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'Until when the previous secret also signs, after a rotation' })
  previous_secret_expires_at!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class CreatedWebhookView extends WebhookView {
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', description: 'The signing secret. Shown this once; store it now.' })
  secret!: string;
}

/** One HTTP attempt of a delivery. */
export class WebhookAttemptView {
  @ApiProperty({ example: 'wha_0193a1b2c3d4e5f60718293a4b5c' }) id!: string;
  @ApiProperty({ enum: ['webhook_attempt'] }) object!: 'webhook_attempt';
  @ApiProperty({ example: 'whd_0193a1b2c3d4e5f60718293a4b5c' }) delivery_id!: string;
  @ApiProperty({ example: 'evt_0193a1b2c3d4e5f60718293a4b5c', description: 'The event; also the `webhook-id` header' }) event_id!: string;
  @ApiProperty({ enum: [...WEBHOOK_EVENT_TYPES] }) event_type!: string;
  @ApiProperty({ type: 'integer', minimum: 1, description: 'Attempt number of this delivery' }) attempt!: number;
  @ApiProperty({ format: 'date-time' }) attempted_at!: string;
  @ApiProperty({ type: 'integer', minimum: 0 }) duration_ms!: number;
  @ApiProperty({ type: 'integer', nullable: true, description: 'The HTTP status your endpoint answered; null when none came' }) status_code!: number | null;
  // null listed in the enum: OpenAPI 3.0 validators check `enum` before `nullable`.
  @ApiProperty({ enum: [...FAILURE_KINDS, null], nullable: true, description: 'Why the attempt failed; null when it succeeded (2xx)' })
  failure!: FailureKind | null;
  @ApiProperty() succeeded!: boolean;
  @ApiProperty({ enum: ['retrying', 'delivered', 'gave_up'], description: 'What the delivery did after this attempt' }) outcome!: string;
}

export function presentWebhook(endpoint: WebhookEndpoint): WebhookView {
  const graceLeft = endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > new Date();
  return {
    id: endpoint.id,
    object: 'webhook_endpoint',
    url: endpoint.url,
    event_types: endpoint.eventTypes,
    enabled: endpoint.enabled,
    disabled_at: endpoint.disabledAt?.toISOString() ?? null,
    consecutive_failures: endpoint.consecutiveFailures,
    previous_secret_expires_at: graceLeft ? endpoint.previousSecretExpiresAt!.toISOString() : null,
    created_at: endpoint.createdAt.toISOString(),
  };
}

export function presentAttempt(attempt: WebhookAttempt): WebhookAttemptView {
  return {
    id: attempt.id,
    object: 'webhook_attempt',
    delivery_id: attempt.deliveryId,
    event_id: attempt.eventId,
    event_type: attempt.eventType,
    attempt: attempt.attempt,
    attempted_at: attempt.attemptedAt.toISOString(),
    duration_ms: attempt.durationMs,
    status_code: attempt.statusCode,
    failure: attempt.failure as FailureKind | null,
    succeeded: attempt.succeeded,
    outcome: attempt.succeeded ? 'delivered' : attempt.final ? 'gave_up' : 'retrying',
  };
}
