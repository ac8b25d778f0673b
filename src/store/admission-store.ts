import type { Tier } from '../generated/prisma/enums';
import type { StoreEvent } from './store-events';

export type { StoreEvent } from './store-events';

/**
 * The shared, fast state every request is admitted against. Redis in production
 * (RedisAdmissionStore), an in-process twin when REDIS_URL is unset (MemoryAdmissionStore).
 * Both implement the same semantics; the end-to-end suite runs against both.
 */
export abstract class AdmissionStore {
  /** The whole per-request admission in one atomic step (one Redis round trip). */
  abstract admit(request: AdmitRequest): Promise<AdmitResult>;
  /** Writes a key's state unless the store already has one (a newer write must win over a seed). */
  abstract seedKey(keyId: string, state: KeyState): Promise<void>;
  /** Seeds the tier copy that requests of `subject` read (on a cluster, one per bucket of subjects). */
  abstract seedOrganization(organizationId: string, tier: Tier, subject: string): Promise<void>;
  /** Overwrites a key's state: revocation or a scheduled revocation (rotation grace). */
  abstract putKey(keyId: string, state: KeyState): Promise<void>;
  abstract putOrganization(organizationId: string, tier: Tier): Promise<void>;
  /** The key's revocation time, for the re-check a write makes before it commits. */
  abstract keyRevokeAt(keyId: string): Promise<number | null>;
  /**
   * Hands the usage counted since the last drain to `write`, as batches (several at a time: on a
   * cluster, one or more per bucket). A batch whose `write` threw — or whose drainer died before
   * the store forgot it — is handed out again, under the same id, so that `write` can apply each
   * batch exactly once.
   */
  abstract drainUsage(write: (batches: UsageBatch[]) => Promise<void>): Promise<void>;
  /**
   * How many distinct client IPs each key-hour has seen so far (estimated on Redis: a
   * HyperLogLog, within about 1%); 0 for an hour the store no longer keeps (see IP_HOURS_KEPT_MS).
   */
  abstract distinctIps(hours: KeyHour[]): Promise<number[]>;
  /** Tells every instance (this one included); best effort. */
  abstract publish(event: StoreEvent): Promise<void>;
  /** Well-formed events only; still hints: act on what the store says, not on the event. */
  abstract subscribe(handler: (event: StoreEvent) => void): void;
  /** True when this instance has been receiving events without interruption since `sinceMs`. */
  abstract eventsCoverSince(sinceMs: number): boolean;
  /** Resolves when the store answers; rejects when it does not. */
  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;
}

export interface AdmitRequest {
  /**
   * The sliding-window bucket: `k:<key id>`, `m:<member id>` or `ip:<address>`. With `keyId`, it
   * is `k:<keyId>` (on a cluster, the key's state lives in that subject's slot).
   */
  subject: string;
  /** Unique per request (the request id): one entry of the sliding log. */
  entry: string;
  /** The limit, unless the key's state carries one of its own (`KeyState.rateLimit`). */
  max: number;
  windowMs: number;
  /** Check this key's revocation and expiry state. */
  keyId?: string;
  /** Read this organization's tier. */
  organizationId?: string;
  /** Count the request in this key's usage (requests or rate_limited) and last use. */
  usageKeyId?: string;
  /** With `usageKeyId`: count this client IP among the key's distinct IPs of the hour. */
  clientIp?: string;
}

export interface KeyHour {
  keyId: string;
  /** Start of the hour, unix ms. */
  hourMs: number;
}

export type AdmitOutcome = 'ok' | 'limited' | 'revoked' | 'expired' | 'missing';

export interface AdmitResult {
  outcome: AdmitOutcome;
  tier?: Tier;
  rateLimit: RateLimitState;
}

export interface RateLimitState {
  limit: number;
  remaining: number;
  windowSeconds: number;
  /** Unix ms when `remaining` next grows (the oldest entry leaves the window). */
  resetAtMs: number;
  /** Ms until a request would be accepted; 0 when this one was. */
  retryAfterMs: number;
}

export interface KeyState {
  /** Unix ms from which the key is refused; null while it is live. */
  revokeAtMs: number | null;
  expiresAtMs: number | null;
  /**
   * The key's own limit, applied instead of the request's; null or absent: the request's (the
   * default). Here rather than in a cached key record, so a change holds from the next request.
   */
  rateLimit?: { max: number; windowMs: number } | null;
}

export interface UsageBatch {
  /** Unique, and kept when the batch is handed out again. */
  id: string;
  counts: UsageCount[];
  lastUsed: { keyId: string; atMs: number }[];
}

export interface UsageCount {
  keyId: string;
  /** Start of the minute, unix ms. */
  minuteMs: number;
  requests: number;
  rateLimited: number;
}

/**
 * A key-hour's distinct IPs stay in the store this long after the hour's last new IP: past the
 * hour's last flush (seconds after it ends), which reads them into PostgreSQL.
 */
export const IP_HOURS_KEPT_MS = 3 * 60 * 60 * 1000;

export const HOUR_MS = 60 * 60 * 1000;

/** Key and organization state is re-read from PostgreSQL after this long without a write. */
export const STATE_TTL_MS = 24 * 60 * 60 * 1000;
