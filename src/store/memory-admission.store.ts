import { EventEmitter } from 'node:events';
import { newId } from '../database/ids';
import type { Tier } from '../generated/prisma/enums';
import {
  AdmissionStore, AdmitRequest, AdmitResult, HOUR_MS, IP_HOURS_KEPT_MS, KeyHour, KeyState, STATE_TTL_MS, StoreEvent, UsageBatch,
} from './admission-store';
import { SlidingLog } from './sliding-log';
import { lastUsedField, parseUsage, usageField } from './usage-fields';

const SWEEP_INTERVAL_MS = 60_000;
/** Distinct IPs remembered per key-hour at most (memory bound); past it the count stays there. */
export const MAX_IPS_PER_KEY_HOUR = 100_000;

/**
 * The in-process twin of RedisAdmissionStore for a single instance without Redis: the same
 * checks, the same exact sliding log, the same usage fields. JavaScript runs each call to
 * completion, which gives the atomicity Redis gives the script.
 */
export class MemoryAdmissionStore extends AdmissionStore {
  private readonly keys = new Map<string, KeyState & { staleAtMs: number }>();
  private readonly organizations = new Map<string, { tier: Tier; staleAtMs: number }>();
  private readonly logs = new Map<string, SlidingLog>();
  private pendingUsage: Record<string, string> = {};
  /** `<key id>|<hour ms>` → the client IPs seen (Redis: a HyperLogLog per key-hour). */
  private readonly ips = new Map<string, { ips: Set<string>; keepUntilMs: number }>();
  /** Batches handed out whose write has not succeeded yet. */
  private unapplied: UsageBatch[] = [];
  private readonly events = new EventEmitter();
  private lastNow = 0;
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();

  async admit(request: AdmitRequest): Promise<AdmitResult> {
    const now = this.now();
    let { max, windowMs } = request;
    const unknown = { limit: max, remaining: 0, resetAtMs: 0, retryAfterMs: 0, windowSeconds: windowMs / 1000 };
    let tier: Tier | undefined;
    if (request.organizationId) {
      tier = this.fresh(this.organizations, request.organizationId, now)?.tier;
      if (!tier) return { outcome: 'missing', rateLimit: unknown };
    }
    if (request.keyId) {
      const state = this.fresh(this.keys, request.keyId, now);
      if (!state) return { outcome: 'missing', tier, rateLimit: unknown };
      if (state.revokeAtMs !== null && state.revokeAtMs <= now) return { outcome: 'revoked', tier, rateLimit: unknown };
      if (state.expiresAtMs !== null && state.expiresAtMs <= now) return { outcome: 'expired', tier, rateLimit: unknown };
      // the key's own limit, over the request's (the default)
      if (state.rateLimit) ({ max, windowMs } = state.rateLimit);
    }

    let log = this.logs.get(request.subject);
    if (!log) this.logs.set(request.subject, (log = new SlidingLog()));
    const decision = log.admit(now, max, windowMs);
    if (request.usageKeyId) {
      const minute = now - (now % 60_000);
      const field = usageField(request.usageKeyId, minute, decision.accepted ? 'r' : 'l');
      this.pendingUsage[field] = String(Number(this.pendingUsage[field] ?? 0) + 1);
      this.pendingUsage[lastUsedField(request.usageKeyId)] = String(now);
      if (request.clientIp) this.countIp(request.usageKeyId, request.clientIp, now);
    }
    return {
      outcome: decision.accepted ? 'ok' : 'limited',
      tier,
      rateLimit: {
        limit: max, windowSeconds: windowMs / 1000, remaining: decision.remaining, resetAtMs: decision.resetAtMs, retryAfterMs: decision.retryAfterMs,
      },
    };
  }

  async seedKey(keyId: string, state: KeyState): Promise<void> {
    if (!this.fresh(this.keys, keyId, this.now())) await this.putKey(keyId, state);
  }

  async seedOrganization(organizationId: string, tier: Tier, _subject?: string): Promise<void> {
    if (!this.fresh(this.organizations, organizationId, this.now())) await this.putOrganization(organizationId, tier);
  }

  async putKey(keyId: string, state: KeyState): Promise<void> {
    this.keys.set(keyId, { ...state, staleAtMs: this.now() + STATE_TTL_MS });
  }

  async putOrganization(organizationId: string, tier: Tier): Promise<void> {
    this.organizations.set(organizationId, { tier, staleAtMs: this.now() + STATE_TTL_MS });
  }

  async keyRevokeAt(keyId: string): Promise<number | null> {
    return this.keys.get(keyId)?.revokeAtMs ?? null;
  }

  async drainUsage(write: (batches: UsageBatch[]) => Promise<void>): Promise<void> {
    // A batch whose write failed goes again, whole and under its id (the write may have landed),
    // with what was counted since as a new one.
    if (Object.keys(this.pendingUsage).length > 0) {
      this.unapplied.push(parseUsage(newId('usb'), this.pendingUsage));
      this.pendingUsage = {};
    }
    if (this.unapplied.length === 0) return;
    const batches = this.unapplied;
    await write(batches);
    this.unapplied = this.unapplied.filter((batch) => !batches.includes(batch));
  }

  async distinctIps(hours: KeyHour[]): Promise<number[]> {
    return hours.map(({ keyId, hourMs }) => this.ips.get(`${keyId}|${hourMs}`)?.ips.size ?? 0);
  }

  /** As the script: a new IP extends how long the hour is kept, a known one changes nothing. */
  private countIp(keyId: string, ip: string, now: number): void {
    const id = `${keyId}|${now - (now % HOUR_MS)}`;
    let hour = this.ips.get(id);
    if (!hour) this.ips.set(id, (hour = { ips: new Set(), keepUntilMs: 0 }));
    if (hour.ips.has(ip) || hour.ips.size >= MAX_IPS_PER_KEY_HOUR) return;
    hour.ips.add(ip);
    hour.keepUntilMs = now + IP_HOURS_KEPT_MS;
  }

  async publish(event: StoreEvent): Promise<void> {
    this.events.emit('event', event);
  }

  subscribe(handler: (event: StoreEvent) => void): void {
    this.events.on('event', handler);
  }

  eventsCoverSince(): boolean {
    return true;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  /** Monotonic milliseconds, as Redis's TIME is for the script. */
  private now(): number {
    this.lastNow = Math.max(this.lastNow, Date.now());
    return this.lastNow;
  }

  private fresh<T extends { staleAtMs: number }>(map: Map<string, T>, id: string, now: number): T | undefined {
    const value = map.get(id);
    return value && value.staleAtMs > now ? value : undefined;
  }

  /** Idle sliding logs, stale state and old IP counts are dropped, as Redis expires them. */
  private sweep(): void {
    const now = this.now();
    for (const [subject, log] of this.logs) if (log.isIdle(now)) this.logs.delete(subject);
    for (const map of [this.keys, this.organizations] as Map<string, { staleAtMs: number }>[]) {
      for (const [id, value] of map) if (value.staleAtMs <= now) map.delete(id);
    }
    for (const [id, hour] of this.ips) if (hour.keepUntilMs <= now) this.ips.delete(id);
  }
}
