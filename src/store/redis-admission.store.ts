import { Logger } from '@nestjs/common';
import calculateSlot from 'cluster-key-slot';
import { Cluster } from 'ioredis';
import { newId } from '../database/ids';
import type { Tier } from '../generated/prisma/enums';
import { ADMIT_SCRIPT } from './admit.script';
import {
  AdmissionStore, AdmitOutcome, AdmitRequest, AdmitResult, HOUR_MS, IP_HOURS_KEPT_MS, KeyHour, KeyState, STATE_TTL_MS, UsageBatch,
} from './admission-store';
import { KeyLayout, UsageBucketKeys, clusterLayout, singleNodeLayout } from './key-layout';
import { RedisClient, RedisTarget, commandClient } from './redis-connection';
import { RedisEventChannel } from './redis-event-channel';
import { CLAIM_USAGE_SCRIPT, PUT_SCRIPT, SEED_SCRIPT } from './state-scripts';
import type { StoreEvent } from './store-events';
import { parseUsage } from './usage-fields';

/** How long a drainer holds a usage batch before another may take it over (its drainer died). */
const USAGE_CLAIM_MS = 60_000;
/** Abandoned batches of one bucket a drain takes over at most, besides its pending usage; the rest wait. */
const ABANDONED_BATCHES_PER_BUCKET = 10;
/** Buckets claimed at once, and batches applied in one write at most. */
const DRAIN_PARALLELISM = 64;
/**
 * How long a tier written to a cluster bucket no request has used lives: longer than a seed can
 * take between reading PostgreSQL and writing Redis (a request's lifetime), far less than a day.
 */
const UNUSED_COPY_TTL_MS = 120_000;
/** How long a write waits for a replica to confirm it before it is refused (see `durable`). */
const REPLICA_ACK_TIMEOUT_MS = 1000;

type AdmitReply = [AdmitOutcome, string, number, number, number, number, number];

interface AdmissionCommands {
  lvAdmit(...args: (string | number)[]): Promise<AdmitReply>;
  lvSeed(...args: (string | number)[]): Promise<number>;
  lvClaimUsage(...args: (string | number)[]): Promise<string[]>;
}

type Commands = RedisClient & AdmissionCommands;

interface Claimed {
  bucket: UsageBucketKeys;
  id: string;
}

/**
 * Redis-backed admission, on one server or a Redis Cluster (the key layout keeps each request's
 * keys in one slot: still one round trip). Commands fail fast while Redis is away: a request then
 * answers 503 instead of hanging, and the connection heals by itself.
 */
export class RedisAdmissionStore extends AdmissionStore {
  private readonly logger = new Logger(RedisAdmissionStore.name);
  private readonly redis: Commands;
  private readonly layout: KeyLayout;
  private readonly events: RedisEventChannel;

  /** `usageNamespace`: per database (see usageNamespace), so deployments sharing a Redis keep their usage. */
  constructor(target: RedisTarget, usageNamespace: string) {
    super();
    this.redis = commandClient(target) as Commands;
    this.redis.defineCommand('lvAdmit', { numberOfKeys: 5, lua: ADMIT_SCRIPT });
    this.redis.defineCommand('lvSeed', { numberOfKeys: 1, lua: SEED_SCRIPT });
    this.redis.defineCommand('lvPut', { numberOfKeys: 1, lua: PUT_SCRIPT });
    this.redis.defineCommand('lvClaimUsage', { numberOfKeys: 3, lua: CLAIM_USAGE_SCRIPT });
    this.redis.on('error', (error: Error) => this.logger.warn(`Redis: ${error.message}`));
    if (target.kind === 'cluster') {
      this.layout = clusterLayout(usageNamespace);
      this.events = new RedisEventChannel(target, this.redis, `lv:events:${usageNamespace}`);
    } else {
      this.layout = singleNodeLayout(usageNamespace);
      this.events = new RedisEventChannel(target, this.redis, `lv:events:${new URL(target.url).pathname.slice(1) || 0}`);
    }
  }

  /** Waits (bounded) for the first connection, so the first requests do not meet a closed stream. */
  async connected(timeoutMs: number): Promise<boolean> {
    if (this.redis.status === 'ready') return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.redis.once('ready', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  async admit(request: AdmitRequest): Promise<AdmitResult> {
    // The IP count's hour by this instance's clock (it names a key, which the script cannot
    // choose on a cluster); the usage minute is Redis's. They differ by the clocks' skew at most.
    const now = Date.now();
    const [outcome, tier, limit, remaining, resetAtMs, retryAfterMs, windowMs] = await this.redis.lvAdmit(
      ...this.layout.admission(request, now - (now % HOUR_MS)),
      request.max,
      request.windowMs,
      request.entry,
      request.keyId ? '1' : '0',
      request.organizationId ? '1' : '0',
      request.usageKeyId ?? '',
      request.usageKeyId ? (request.clientIp ?? '') : '',
      IP_HOURS_KEPT_MS,
    );
    return {
      outcome,
      tier: tier ? (tier as Tier) : undefined,
      rateLimit: { limit, remaining, resetAtMs, retryAfterMs, windowSeconds: windowMs / 1000 },
    };
  }

  async seedKey(keyId: string, state: KeyState): Promise<void> {
    await this.redis.lvSeed(this.layout.keyState(keyId), STATE_TTL_MS, ...keyFields(state));
  }

  async seedOrganization(organizationId: string, tier: Tier, subject: string): Promise<void> {
    await this.redis.lvSeed(this.layout.organizationState(organizationId, subject), STATE_TTL_MS, 'tier', tier);
  }

  async putKey(keyId: string, state: KeyState): Promise<void> {
    await this.durable(this.layout.keyState(keyId), STATE_TTL_MS, keyFields(state));
  }

  async putOrganization(organizationId: string, tier: Tier): Promise<void> {
    const copies = this.layout.organizationCopies(organizationId);
    const unusedTtl = copies.length > 1 ? UNUSED_COPY_TTL_MS : STATE_TTL_MS;
    await Promise.all(copies.map((copy) => this.durable(copy, unusedTtl, ['tier', tier])));
  }

  async keyRevokeAt(keyId: string): Promise<number | null> {
    const value = await this.redis.hget(this.layout.keyState(keyId), 'rv');
    return value && value !== '0' ? Number(value) : null;
  }

  /**
   * Every bucket's abandoned batches and pending usage, claimed a few buckets at a time and
   * applied in writes of at most DRAIN_PARALLELISM batches. What is counted meanwhile waits for
   * the next drain, so a drain is a bounded amount of work however busy the service.
   */
  async drainUsage(write: (batches: UsageBatch[]) => Promise<void>): Promise<void> {
    const buckets = this.layout.usageBuckets();
    let claimed: Claimed[] = [];
    for (let start = 0; start < buckets.length; start += DRAIN_PARALLELISM) {
      const chunk = buckets.slice(start, start + DRAIN_PARALLELISM);
      claimed.push(...(await Promise.all(chunk.map((bucket) => this.claim(bucket)))).flat());
      if (claimed.length >= DRAIN_PARALLELISM || start + DRAIN_PARALLELISM >= buckets.length) {
        if (claimed.length > 0) await this.apply(claimed, write);
        claimed = [];
      }
    }
  }

  async distinctIps(hours: KeyHour[]): Promise<number[]> {
    // One command each: on a cluster, the key-hours live on different shards.
    return Promise.all(hours.map(({ keyId, hourMs }) => this.redis.pfcount(this.layout.distinctIps(keyId, hourMs))));
  }

  private async claim(bucket: UsageBucketKeys): Promise<Claimed[]> {
    const id = newId('usb');
    const ids = await this.redis.lvClaimUsage(bucket.pending, bucket.batches, bucket.batch(id), USAGE_CLAIM_MS, id, ABANDONED_BATCHES_PER_BUCKET);
    return ids.map((claimedId) => ({ bucket, id: claimedId }));
  }

  /** Writes the claimed batches once, then forgets them; on failure they are up for grabs again at once, under their ids. */
  private async apply(claimed: Claimed[], write: (batches: UsageBatch[]) => Promise<void>): Promise<void> {
    try {
      const batches = await Promise.all(claimed.map(async ({ bucket, id }) => parseUsage(id, await this.redis.hgetall(bucket.batch(id)))));
      await write(batches);
    } catch (error) {
      await Promise.all(claimed.map(({ bucket, id }) => this.redis.zadd(bucket.batches, 0, id).catch(() => undefined)));
      throw error;
    }
    await Promise.all(claimed.map(({ bucket, id }) => this.redis.multi().del(bucket.batch(id)).zrem(bucket.batches, id).exec()));
  }

  /**
   * Writes a state (PUT_SCRIPT) — on a cluster, confirmed by a replica of its shard before this
   * resolves: Redis replicates after answering, so a write its primary took and lost in a
   * failover would otherwise be gone — a revocation undone. Unconfirmed, the write is refused
   * (the revocation answers 503, PostgreSQL does not commit it) rather than trusted.
   */
  private async durable(key: string, ttlMs: number, fields: string[]): Promise<void> {
    const pipeline = this.redis.pipeline() as ReturnType<RedisClient['pipeline']> & { lvPut(...args: (string | number)[]): unknown };
    pipeline.lvPut(key, STATE_TTL_MS, ttlMs, ...fields);
    const replicated = this.hasReplica(key);
    if (replicated) pipeline.wait(1, REPLICA_ACK_TIMEOUT_MS);
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed) throw failed[0];
    if (replicated && results[1][1] === 0) throw new Error('No replica confirmed the write in time');
  }

  /** Whether the shard holding `key` has a replica (one server: never waited for). */
  private hasReplica(key: string): boolean {
    if (!(this.redis instanceof Cluster)) return false;
    return (this.redis.slots[calculateSlot(key)]?.length ?? 0) > 1;
  }

  publish(event: StoreEvent): Promise<void> {
    return this.events.publish(event);
  }

  subscribe(handler: (event: StoreEvent) => void): void {
    this.events.subscribe(handler);
  }

  eventsCoverSince(sinceMs: number): boolean {
    return this.events.coversSince(sinceMs);
  }

  async ping(): Promise<void> {
    if (this.redis instanceof Cluster) {
      // Any primary: a shard that is down refuses its own part of the traffic (503), while this
      // instance stays ready for the rest — all instances see the same shard down alike.
      await Promise.any(this.redis.nodes('master').map((node) => node.ping()));
      return;
    }
    await this.redis.ping();
  }

  async close(): Promise<void> {
    this.events.close();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

function keyFields(state: KeyState): string[] {
  const { revokeAtMs, expiresAtMs, rateLimit } = state;
  return ['rv', String(revokeAtMs ?? 0), 'ex', String(expiresAtMs ?? 0), 'lm', String(rateLimit?.max ?? 0), 'lw', String(rateLimit?.windowMs ?? 0)];
}
