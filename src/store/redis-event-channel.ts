import { Logger } from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';
import { StoreEvent, excerpt, parseStoreEvent } from './store-events';

/** At most one warning per this long about dropped messages, however many arrive. */
const DROPPED_LOG_INTERVAL_MS = 10_000;

/**
 * The store's events over Redis pub/sub, on a subscriber connection of their own. Anyone who
 * reaches the Redis server can publish on any channel: what is not a well-formed event is
 * dropped, and handlers treat what is as a hint (see StoreEvent).
 */
export class RedisEventChannel {
  private readonly logger = new Logger('RedisAdmissionStore');
  private readonly subscriber: Redis;
  private readonly handlers: ((event: StoreEvent) => void)[] = [];
  /** Since when the subscription has been up (ioredis re-subscribes on reconnect); null while down. */
  private subscribedSinceMs: number | null = null;
  private dropped = { count: 0, loggedAtMs: Number.NEGATIVE_INFINITY };

  /**
   * `name`: per Redis database — pub/sub ignores SELECT, while the state events speak of lives in
   * one database — so deployments sharing a Redis server do not hear each other.
   */
  constructor(
    url: string,
    options: RedisOptions,
    private readonly publisher: Redis,
    readonly name = `lv:events:${publisher.options.db ?? 0}`,
  ) {
    this.subscriber = new Redis(url, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.subscriber.on('error', (error: Error) => this.logger.warn(`Redis: ${error.message}`));
    void this.subscriber.subscribe(name).catch((error: Error) => this.logger.warn(`Redis subscribe: ${error.message}`));
    this.subscriber.on('ready', () => (this.subscribedSinceMs = Date.now()));
    this.subscriber.on('close', () => (this.subscribedSinceMs = null));
    this.subscriber.on('message', (_channel: string, message: string) => this.deliver(message));
  }

  async publish(event: StoreEvent): Promise<void> {
    await this.publisher.publish(this.name, JSON.stringify(event));
  }

  subscribe(handler: (event: StoreEvent) => void): void {
    this.handlers.push(handler);
  }

  coversSince(sinceMs: number): boolean {
    return this.subscribedSinceMs !== null && this.subscribedSinceMs <= sinceMs;
  }

  close(): void {
    this.subscriber.disconnect();
  }

  private deliver(message: string): void {
    const parsed = parseStoreEvent(message);
    if ('problem' in parsed) return this.drop(parsed.problem, message);
    for (const handler of this.handlers) {
      // A throwing handler must not take the others, or the process, with it.
      try {
        handler(parsed.event);
      } catch (error) {
        this.logger.warn(`Store event ${parsed.event.type} not handled: ${(error as Error).message}`);
      }
    }
  }

  private drop(problem: string, message: string): void {
    this.dropped.count++;
    const now = Date.now();
    if (now - this.dropped.loggedAtMs < DROPPED_LOG_INTERVAL_MS) return;
    this.logger.warn(
      `Ignored ${this.dropped.count} malformed message(s) on ${this.name} since the last report; the latest: ${problem}, ${excerpt(message)}`,
    );
    this.dropped = { count: 0, loggedAtMs: now };
  }
}
