import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { RedisClient, RedisTarget, subscriberConnection, subscriberNodes } from './redis-connection';
import { StoreEvent, excerpt, parseStoreEvent } from './store-events';

/** At most one warning per this long about dropped messages, however many arrive. */
const DROPPED_LOG_INTERVAL_MS = 10_000;

/**
 * The store's events over Redis pub/sub, on a subscriber connection of their own. Anyone who
 * reaches the Redis server can publish on any channel: what is not a well-formed event is
 * dropped, and handlers treat what is as a hint (see StoreEvent).
 *
 * The subscription is this class's own, not the client library's, so that it knows exactly
 * since when it has been listening (see `coversSince`). On a cluster it listens on one node —
 * classic PUBLISH reaches every node of a cluster — and moves to another when that one goes.
 */
export class RedisEventChannel {
  private readonly logger = new Logger('RedisAdmissionStore');
  private readonly handlers: ((event: StoreEvent) => void)[] = [];
  private subscriber?: Redis;
  /** Since when the subscription has been up; null while down. */
  private subscribedSinceMs: number | null = null;
  private failures = 0;
  private nextNode = 0;
  private closed = false;
  private dropped = { count: 0, loggedAtMs: Number.NEGATIVE_INFINITY };

  /**
   * `name`: on one server, per database — pub/sub ignores SELECT, while the state events speak
   * of lives in one database — so deployments sharing a Redis server do not hear each other.
   */
  constructor(
    private readonly target: RedisTarget,
    private readonly publisher: RedisClient,
    readonly name: string,
  ) {
    this.listen();
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
    this.closed = true;
    this.subscriber?.disconnect();
  }

  /** Subscribes on a fresh connection; when it ends, tries again (on a cluster, on the next node). */
  private listen(): void {
    if (this.closed) return;
    const nodes = subscriberNodes(this.target, this.publisher);
    const subscriber = subscriberConnection(this.target, nodes[this.nextNode++ % Math.max(nodes.length, 1)]);
    this.subscriber = subscriber;
    subscriber.on('error', (error: Error) => this.logger.warn(`Redis: ${error.message}`));
    subscriber.on('message', (_channel: string, message: string) => this.deliver(message));
    subscriber.on('close', () => (this.subscribedSinceMs = null));
    subscriber.once('end', () => {
      this.subscribedSinceMs = null;
      const delayMs = Math.min(100 * ++this.failures, 1000);
      if (!this.closed) setTimeout(() => this.listen(), delayMs).unref();
    });
    subscriber.subscribe(this.name).then(
      () => {
        this.failures = 0;
        this.subscribedSinceMs = Date.now();
      },
      (error: Error) => {
        // a connection that failed has said why already
        if (subscriber.status === 'ready') this.logger.warn(`Redis subscribe: ${error.message}`);
        subscriber.disconnect();
      },
    );
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
