import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { newId } from '../database/ids';
import type { Tier } from '../generated/prisma/enums';
import { ADMIT_SCRIPT } from './admit.script';
import {
  AdmissionStore, AdmitOutcome, AdmitRequest, AdmitResult, KeyState, STATE_TTL_MS, UsageBatch,
} from './admission-store';
import { RedisEventChannel } from './redis-event-channel';
import type { StoreEvent } from './store-events';
import { parseUsage } from './usage-fields';

/** How long a drainer holds a usage batch before another may take it over (its drainer died). */
const USAGE_CLAIM_MS = 60_000;
/** Abandoned batches one drain takes over at most, before the pending usage; the rest wait. */
const ABANDONED_BATCHES_PER_DRAIN = 10;

/** Writes a state that is absent; of one that exists, only the fields it lacks (a newer write wins). */
const SEED_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 2))
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
else
  for i = 2, #ARGV, 2 do redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return 1`;

/**
 * Hands the caller a usage batch to apply: an abandoned one (its claim ran out) first, else the
 * pending hash, renamed into a new batch. KEYS: 1 pending hash, 2 batches (sorted set: id → claim
 * deadline, ms), 3 the new batch's key. ARGV: 1 claim ms, 2 the new batch's id.
 * Returns {id, 'abandoned' | 'new'}, or false when there is nothing to drain.
 */
const CLAIM_USAGE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local abandoned = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1)
if abandoned[1] then
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[1]), abandoned[1])
  return {abandoned[1], 'abandoned'}
end
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('RENAME', KEYS[1], KEYS[3])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[1]), ARGV[2])
return {ARGV[2], 'new'}`;

type AdmitReply = [AdmitOutcome, string, number, number, number, number, number];

interface AdmissionCommands {
  lvAdmit(...args: (string | number)[]): Promise<AdmitReply>;
  lvSeed(...args: (string | number)[]): Promise<number>;
  lvClaimUsage(...args: (string | number)[]): Promise<[string, 'abandoned' | 'new'] | null>;
}

/**
 * Redis-backed admission. Commands fail fast while Redis is away (no offline queue, one retry):
 * a request then answers 503 instead of hanging, and the connection heals by itself.
 */
export class RedisAdmissionStore extends AdmissionStore {
  private readonly logger = new Logger(RedisAdmissionStore.name);
  private readonly redis: Redis & AdmissionCommands;
  private readonly events: RedisEventChannel;
  /** Pending usage, and its batches: per database (see usageNamespace), so deployments sharing a Redis keep theirs. */
  private readonly pendingUsage: string;
  private readonly usageBatches: string;

  constructor(url: string, usageNamespace: string) {
    super();
    this.pendingUsage = `lv:usage:${usageNamespace}`;
    this.usageBatches = `${this.pendingUsage}:batches`;
    const options = {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: (attempt: number) => Math.min(attempt * 100, 1000),
    };
    // No auto-pipelining: it holds each EVALSHA until the next tick and builds a pipeline per batch;
    // measured (bench/RESULTS.md) at ~20% fewer admitted requests per second than writing at once.
    this.redis = new Redis(url, options) as Redis & AdmissionCommands;
    this.redis.defineCommand('lvAdmit', { numberOfKeys: 4, lua: ADMIT_SCRIPT });
    this.redis.defineCommand('lvSeed', { numberOfKeys: 1, lua: SEED_SCRIPT });
    this.redis.defineCommand('lvClaimUsage', { numberOfKeys: 3, lua: CLAIM_USAGE_SCRIPT });
    this.redis.on('error', (error: Error) => this.logger.warn(`Redis: ${error.message}`));
    this.events = new RedisEventChannel(url, options, this.redis);
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
    const [outcome, tier, limit, remaining, resetAtMs, retryAfterMs, windowMs] = await this.redis.lvAdmit(
      `lv:k:${request.keyId ?? '-'}`,
      `lv:o:${request.organizationId ?? '-'}`,
      `lv:rl:${request.subject}`,
      this.pendingUsage,
      request.max,
      request.windowMs,
      request.entry,
      request.keyId ? '1' : '0',
      request.organizationId ? '1' : '0',
      request.usageKeyId ?? '',
    );
    return {
      outcome,
      tier: tier ? (tier as Tier) : undefined,
      rateLimit: { limit, remaining, resetAtMs, retryAfterMs, windowSeconds: windowMs / 1000 },
    };
  }

  async seedKey(keyId: string, state: KeyState): Promise<void> {
    await this.redis.lvSeed(`lv:k:${keyId}`, STATE_TTL_MS, ...keyFields(state));
  }

  async seedOrganization(organizationId: string, tier: Tier): Promise<void> {
    await this.redis.lvSeed(`lv:o:${organizationId}`, STATE_TTL_MS, 'tier', tier);
  }

  async putKey(keyId: string, state: KeyState): Promise<void> {
    await this.redis.multi().hset(`lv:k:${keyId}`, ...keyFields(state)).pexpire(`lv:k:${keyId}`, STATE_TTL_MS).exec();
  }

  async putOrganization(organizationId: string, tier: Tier): Promise<void> {
    await this.redis.multi().hset(`lv:o:${organizationId}`, 'tier', tier).pexpire(`lv:o:${organizationId}`, STATE_TTL_MS).exec();
  }

  async keyRevokeAt(keyId: string): Promise<number | null> {
    const value = await this.redis.hget(`lv:k:${keyId}`, 'rv');
    return value && value !== '0' ? Number(value) : null;
  }

  async drainUsage(write: (batch: UsageBatch) => Promise<void>): Promise<void> {
    // Abandoned batches first, then the pending usage once: what is counted meanwhile waits for
    // the next drain, so a drain is a bounded number of transactions however busy the service.
    for (let n = 0; n <= ABANDONED_BATCHES_PER_DRAIN; n++) {
      const newBatch = newId('usb');
      const claimed = await this.redis.lvClaimUsage(this.pendingUsage, this.usageBatches, this.batchKey(newBatch), USAGE_CLAIM_MS, newBatch);
      if (!claimed) return;
      const [id, kind] = claimed;
      try {
        await write(parseUsage(id, await this.redis.hgetall(this.batchKey(id))));
      } catch (error) {
        // Up for grabs again at once (this instance's next drain, or another's); the id stays.
        await this.redis.zadd(this.usageBatches, 0, id).catch(() => undefined);
        throw error;
      }
      await this.redis.multi().del(this.batchKey(id)).zrem(this.usageBatches, id).exec();
      if (kind === 'new') return;
    }
  }

  private batchKey(id: string): string {
    return `${this.pendingUsage}:batch:${id}`;
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
