import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import type { Prisma } from '../../generated/prisma/client';
import { describeFailure } from '../../errors/to-app-error';
import { WebhookSecrets } from '../webhook-secrets';
import { signatureHeader } from '../webhook-signer';
import { ClaimedDelivery, DeliveriesRepository } from './deliveries.repository';
import { retryDelayMs } from './retry-schedule';
import { SendResult, send } from './webhook-sender';

/**
 * One attempt of a claimed delivery: sign, send, then in one transaction record it and move the
 * delivery on — delivered, retried later, or given up (which may disable the endpoint).
 */
@Injectable()
export class DeliveryAttempts {
  private readonly logger = new Logger(DeliveryAttempts.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly secrets: WebhookSecrets,
    private readonly deliveries: DeliveriesRepository,
    private readonly audit: AuditService,
  ) {}

  /** Sends one claimed delivery and records the attempt; abandoned unrecorded when `stopping` fires. */
  async run(delivery: ClaimedDelivery, stopping: AbortSignal): Promise<void> {
    const attemptedAt = new Date();
    const signingSecrets = this.signingSecrets(delivery);
    const result: SendResult = signingSecrets
      ? await send({
          url: delivery.url,
          body: delivery.payload,
          headers: this.headers(delivery, signingSecrets),
          timeoutMs: this.config.webhooks.timeoutMs,
          allowPrivate: this.config.webhooks.allowPrivateTargets,
          signal: stopping,
        })
      : { statusCode: null, failure: 'secret_unreadable', durationMs: 0 };
    if (stopping.aborted) return;
    if (result.failure) this.logger.log({ endpoint_id: delivery.endpointId, delivery_id: delivery.id, failure: result.failure, status_code: result.statusCode }, 'Webhook attempt failed');
    try {
      await this.deliveries.transaction((tx) => this.record(tx, delivery, attemptedAt, result));
    } catch (error) {
      // The endpoint was deleted meanwhile, or the database is away: the claim runs out and, if
      // the delivery still exists, it is attempted again. The other attempts of the round go on.
      this.logger.warn({ delivery_id: delivery.id, cause: describeFailure(error) }, 'Webhook attempt not recorded');
    }
  }

  private async record(tx: Prisma.TransactionClient, delivery: ClaimedDelivery, attemptedAt: Date, result: SendResult): Promise<void> {
    const { backoffBaseMs, maxAgeSeconds, disableAfterFailures } = this.config.webhooks;
    if (!result.failure) {
      const final = await this.deliveries.markDelivered(tx, delivery);
      await this.deliveries.resetFailures(tx, delivery.endpointId);
      return this.deliveries.recordAttempt(tx, delivery, attemptedAt, result, final);
    }
    const status = await this.deliveries.markFailed(tx, delivery, retryDelayMs(delivery.attempts, backoffBaseMs), maxAgeSeconds * 1000);
    await this.deliveries.recordAttempt(tx, delivery, attemptedAt, result, status === 'failed');
    if (status !== 'failed') return;
    const endpoint = await this.deliveries.countGivenUp(tx, delivery.endpointId);
    if (!endpoint?.enabled || endpoint.consecutiveFailures < disableAfterFailures) return;
    await this.deliveries.disable(tx, delivery.endpointId);
    await this.audit.record(tx, {
      organizationId: delivery.organizationId,
      type: 'webhook.disabled',
      actor: { type: 'system', id: 'webhook-delivery' },
      target: { type: 'webhook_endpoint', id: delivery.endpointId },
      data: { consecutive_failures: endpoint.consecutiveFailures },
    });
    this.logger.warn({ endpoint_id: delivery.endpointId }, `Webhook endpoint disabled after ${endpoint.consecutiveFailures} deliveries given up in a row`);
  }

  /** The current secret, and during a rotation's grace period the previous one; null if they cannot be opened. */
  private signingSecrets(delivery: ClaimedDelivery): string[] | null {
    const box = this.secrets.box!;
    try {
      const current = box.open(delivery.secretCiphertext, delivery.endpointId);
      const previous = delivery.previousSecretLive && delivery.previousSecretCiphertext ? box.open(delivery.previousSecretCiphertext, delivery.endpointId) : null;
      return previous ? [current, previous] : [current];
    } catch {
      // WEBHOOK_SECRETS_KEY changed since the secret was sealed (or the row was altered).
      this.logger.error({ endpoint_id: delivery.endpointId }, 'Webhook secret cannot be decrypted with WEBHOOK_SECRETS_KEY; delivery not sent');
      return null;
    }
  }

  private headers(delivery: ClaimedDelivery, secrets: string[]): Record<string, string> {
    const timestamp = Math.floor(Date.now() / 1000);
    return {
      'user-agent': 'Lucitra-Webhooks/1',
      'webhook-id': delivery.eventId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(secrets, delivery.eventId, timestamp, delivery.payload),
    };
  }
}
