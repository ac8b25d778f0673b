import { setMaxListeners } from 'node:events';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { DATABASE_CONNECTION } from '../../database/database.module';
import type { DatabaseConnection } from '../../database/connect-database';
import { describeFailure } from '../../errors/to-app-error';
import { WebhookSecrets } from '../webhook-secrets';
import { DeliveriesRepository } from './deliveries.repository';
import { DeliveryAttempts } from './delivery-attempts';

/**
 * Attempts in flight per instance. Each is claimed when a place frees up, so a receiver that
 * hangs for the whole timeout holds one place, not the instance's whole round.
 */
const CONCURRENCY = 16;
/** Finished deliveries (and their attempts) are kept this long for the attempts list, then deleted. */
const RETENTION_DAYS = 30;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Delivers the outbox, in every instance: claims due deliveries and hands each to
 * DeliveryAttempts. At least once: a delivery is marked done only after its 2xx, and a claim
 * whose instance dies is taken again after its lease (twice the attempt timeout).
 */
@Injectable()
export class WebhookWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookWorker.name);
  private timer?: NodeJS.Timeout;
  /** Whether to poll at all (see onApplicationBootstrap). */
  private active = false;
  private claiming?: Promise<void>;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private lastPrune = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DATABASE_CONNECTION) private readonly connection: DatabaseConnection,
    private readonly secrets: WebhookSecrets,
    private readonly deliveries: DeliveriesRepository,
    private readonly attempts: DeliveryAttempts,
  ) {
    // each attempt in flight listens for the stop: up to CONCURRENCY listeners is the design, not a leak
    setMaxListeners(CONCURRENCY, this.stopping.signal);
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
   * In-flight attempts are abandoned, not awaited to their end (one can take the whole timeout):
   * unrecorded, they stay claimed and are made again after the lease, by another instance or
   * this one's successor.
   */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.stopping.abort();
    await this.claiming;
    await Promise.all(this.inFlight);
  }

  /** Claims as many due deliveries as there are free places; one claim at a time per instance. */
  private poll(): void {
    const room = CONCURRENCY - this.inFlight.size;
    if (!this.active || this.stopping.signal.aborted || this.claiming || room <= 0) return;
    this.claiming = this.claim(room)
      .catch((error: unknown) => this.logger.warn({ cause: describeFailure(error) }, 'Webhook deliveries not claimed; next poll retries'))
      .finally(() => (this.claiming = undefined));
  }

  private async claim(room: number): Promise<void> {
    if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = Date.now();
      await this.deliveries.pruneFinished(RETENTION_DAYS);
    }
    const claimed = await this.deliveries.claim(room, this.config.webhooks.timeoutMs * 2);
    for (const delivery of claimed) {
      const running: Promise<void> = this.attempts.run(delivery, this.stopping.signal).finally(() => {
        this.inFlight.delete(running);
        this.poll(); // a place is free: more may be due
      });
      this.inFlight.add(running);
    }
    // every place taken and maybe more due: claim again once this claim has ended
    if (claimed.length === room) setImmediate(() => this.poll());
  }
}
