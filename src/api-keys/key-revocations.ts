import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { Principal } from '../auth/principal';
import { AppError } from '../errors/app-error';
import { AdmissionStore, STATE_TTL_MS } from '../store/admission-store';

/**
 * How long after its revocation time a key must still be remembered: a request admitted just
 * before it may take up to 30 s to send its body (the request timeout), then be handled until the
 * 30 s idle timeout; plus a margin. Later requests are refused by admission, which reads the store.
 */
export const IN_FLIGHT_WINDOW_MS = 65_000;
/** Revocations remembered at once (~3 MB when full); beyond it, the oldest go and in-flight checks ask the store. */
export const MAX_REMEMBERED = 10_000;

/**
 * What this instance knows of revocations, for requests already past admission: its own
 * revocations at once, other instances' through the store's events — which anyone reaching Redis
 * could forge, so each is only a hint to read the key's revocation time from the store (one read
 * per event, off the request path). A response about to be sent for a key revoked meanwhile is
 * replaced by 401. Writes ask the store itself before committing.
 */
@Injectable()
export class KeyRevocations implements OnModuleDestroy {
  private readonly logger = new Logger(KeyRevocations.name);
  /** key id → when the store says it stops working; kept until IN_FLIGHT_WINDOW_MS after that. */
  private readonly revokeAt = new LRUCache<string, number>({
    max: MAX_REMEMBERED,
    // The clock revocation times are on.
    perf: { now: () => Date.now() },
    dispose: (atMs, _keyId, reason) => {
      if (reason === 'evict') this.askStoreUntil(atMs + IN_FLIGHT_WINDOW_MS, 'more revocations than it remembers');
    },
  });
  /** Announced revocations being read from the store (key id → announcements pending). */
  private readonly confirming = new Map<string, number>();
  /** Until then this instance may have missed a revocation: in-flight checks ask the store. */
  private askStoreUntilMs = 0;
  /** Requests (by their principal) that revoked the very key they authenticated with. */
  private readonly revokedTheirOwnKey = new WeakSet<Principal>();
  /** Drops what is past its window, so that the cache is soon empty again and `isRevoked` costs nothing. */
  private readonly sweeper = setInterval(() => this.revokeAt.purgeStale(), IN_FLIGHT_WINDOW_MS).unref();

  constructor(private readonly store: AdmissionStore) {
    store.subscribe((event) => {
      if (event.type === 'key.revoked') void this.confirm(event.keyId);
    });
  }

  /** The key stops working at `revokeAtMs` — from this instance's own revocation, or the store. */
  note(keyId: string, revokeAtMs: number, nowMs = Date.now()): void {
    if (!Number.isFinite(revokeAtMs)) return;
    // Room first from entries past their window, so that no live one is evicted while stale ones stay.
    if (this.revokeAt.size >= MAX_REMEMBERED && !this.revokeAt.has(keyId)) this.revokeAt.purgeStale();
    const until = Math.min(Math.max(revokeAtMs - nowMs, 0), STATE_TTL_MS);
    this.revokeAt.set(keyId, revokeAtMs, { ttl: Math.ceil(until) + IN_FLIGHT_WINDOW_MS });
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  /** `principal`'s request revoked its own key: it is still answered with what it did. */
  noteRevokedByItself(principal: Principal): void {
    this.revokedTheirOwnKey.add(principal);
  }

  isRevoked(keyId: string, nowMs = Date.now()): boolean {
    // On every request, twice: the cache's own get allocates, and is seldom needed.
    if (this.revokeAt.size === 0) return false;
    const at = this.revokeAt.get(keyId);
    return at !== undefined && at <= nowMs;
  }

  /** How many revocations are remembered (for tests and metrics). */
  get size(): number {
    return this.revokeAt.size;
  }

  /**
   * Before a response is sent, from what this instance heard — synchronously, the common case — or
   * `'ask-store'` when a revocation may have gone unheard or is still being confirmed (then
   * `assertLive` decides): the event subscription was interrupted since the request began, an
   * event about this key is being read from the store, or a revocation was forgotten early.
   */
  inFlightVerdict(principal: Principal, requestStartedMs: number): 'live' | 'revoked' | 'ask-store' {
    if (principal.kind !== 'api_key' || this.revokedTheirOwnKey.has(principal)) return 'live';
    const now = Date.now();
    if (this.isRevoked(principal.key.id, now)) return 'revoked';
    if (now < this.askStoreUntilMs || this.confirming.has(principal.key.id)) return 'ask-store';
    return this.store.eventsCoverSince(requestStartedMs) ? 'live' : 'ask-store';
  }

  /** For writes, just before commit: one store read, authoritative across instances. */
  async assertLive(principal: Principal): Promise<void> {
    if (principal.kind !== 'api_key') return;
    const at = await this.store.keyRevokeAt(principal.key.id);
    if (at !== null && at <= Date.now()) throw revokedError();
  }

  /** An event said `keyId` was revoked: note what the store says, never the event's own claim. */
  private async confirm(keyId: string): Promise<void> {
    this.confirming.set(keyId, (this.confirming.get(keyId) ?? 0) + 1);
    try {
      const at = await this.store.keyRevokeAt(keyId);
      if (at !== null) this.note(keyId, at);
    } catch (error) {
      this.askStoreUntil(Date.now() + IN_FLIGHT_WINDOW_MS, `the store could not be read (${(error as Error).message})`);
    } finally {
      const pending = this.confirming.get(keyId)! - 1;
      if (pending === 0) this.confirming.delete(keyId);
      else this.confirming.set(keyId, pending);
    }
  }

  private askStoreUntil(untilMs: number, why: string): void {
    if (untilMs <= this.askStoreUntilMs || untilMs <= Date.now()) return;
    if (this.askStoreUntilMs <= Date.now()) {
      this.logger.warn(`A revocation may have gone unnoted (${why}): requests in flight ask the store before answering for now.`);
    }
    this.askStoreUntilMs = untilMs;
  }
}

export function revokedError(): AppError {
  return new AppError('API_KEY_REVOKED', 'This API key has been revoked.');
}
