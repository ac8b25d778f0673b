import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { DATABASE_CONNECTION } from '../../database/database.module';
import type { DatabaseConnection } from '../../database/connect-database';
import type { Prisma } from '../../generated/prisma/client';
import { describeFailure } from '../../errors/to-app-error';
import { WebhookSecrets } from '../webhook-secrets';
import { signatureHeader } from '../webhook-signer';
import { ClaimedDelivery, DeliveriesRepository } from './deliveries.repository';
import { retryDelayMs } from './retry-schedule';
import { SendResult, send } from './webhook-sender';

const BATCH = 10;
/** Finished deliveries (and their attempts) are kept this long for the attempts list, then deleted. */
const RETENTION_DAYS = 30;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Delivers the outbox, in every instance: claims due deliveries, sends them, records each
 * attempt, schedules retries, gives up at the deadline, disables endpoints that keep failing.
 * At least once: a delivery is marked done only after its 2xx, and a claim whose instance dies
 * is taken again after its lease (twice the attempt timeout).
 */
@Injectable()
export class WebhookWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookWorker.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** Whether to poll at all (see onApplicationBootstrap). */
  private active = false;
  private readonly stopping = new AbortController();
  private lastPrune = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DATABASE_CONNECTION) private readonly connection: DatabaseConnection,
    private readonly secrets: WebhookSecrets,
    private readonly deliveries: DeliveriesRepository,
    private readonly audit: AuditService,
  ) {}

  private get leaseMs(): number {
    return this.config.webhooks.timeoutMs * 2;
  }

  /**
   * With PostgreSQL, every instance polls: another may have enqueued, or died holding a claim.
   * Embedded, this instance is the only one, so it polls only once it has an enabled endpoint —
   * a service without webhooks sends no query for them.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.secrets.available) {
      this.logger.warn('Webhooks are off: WEBHOOK_SECRETS_KEY is not set (required with DATABASE_URL). The /v1/webhooks routes answer 503.');
      return;
    }
    this.active = !this.connection.embedded || (await this.deliveries.hasEnabledEndpoints());
    this.timer = setInterval(() => this.poll(), this.config.webhooks.pollIntervalMs).unref();
    this.poll();
  }

  /** An endpoint was created or enabled here: from now on there may be deliveries to make. */
  wake(): void {
    this.active = true;
  }

  /**
   * In-flight attempts are abandoned, not awaited (one can take the whole timeout): unrecorded,
   * they stay claimed and are made again after the lease, by this instance's successor or another.
   */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.stopping.abort();
    await this.running;
  }

  /** One drain at a time per instance; a tick during one does nothing. */
  private poll(): void {
    if (!this.active || this.stopping.signal.aborted || this.running) return;
    this.running = this.drain()
      .catch((error: unknown) => this.logger.warn({ cause: describeFailure(error) }, 'Webhook delivery round postponed'))
      .finally(() => (this.running = undefined));
  }

  private async drain(): Promise<void> {
    if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = Date.now();
      await this.deliveries.pruneFinished(RETENTION_DAYS);
    }
    while (!this.stopping.signal.aborted) {
      const claimed = await this.deliveries.claim(BATCH, this.leaseMs);
      if (claimed.length === 0) return;
      await Promise.all(claimed.map((delivery) => this.attempt(delivery)));
    }
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const attemptedAt = new Date();
    const signingSecrets = this.signingSecrets(delivery);
    const result: SendResult = signingSecrets
      ? await send({
          url: delivery.url,
          body: delivery.payload,
          headers: this.headers(delivery, signingSecrets),
          timeoutMs: this.config.webhooks.timeoutMs,
          allowPrivate: this.config.webhooks.allowPrivateTargets,
          signal: this.stopping.signal,
        })
      : { statusCode: null, failure: 'secret_unreadable', durationMs: 0 };
    if (this.stopping.signal.aborted) return;
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
