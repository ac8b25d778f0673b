import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import { AppError } from '../errors/app-error';
import { AdmissionStore } from '../store/admission-store';

/**
 * What this instance knows of revocations, for requests already past admission: the store's
 * events (and this instance's own revocations) land here at once, so a response about to be sent
 * for a key revoked meanwhile is replaced by 401. Writes ask the store itself before committing.
 */
@Injectable()
export class KeyRevocations {
  private readonly revokeAt = new Map<string, number>();
  /** Requests (by their principal) that revoked the very key they authenticated with. */
  private readonly revokedTheirOwnKey = new WeakSet<Principal>();

  constructor(private readonly store: AdmissionStore) {
    store.subscribe((event) => {
      if (event.type === 'key.revoked') this.note(event.keyId, event.revokeAtMs);
    });
  }

  note(keyId: string, revokeAtMs: number): void {
    this.revokeAt.set(keyId, revokeAtMs);
  }

  /** `principal`'s request revoked its own key: it is still answered with what it did. */
  noteRevokedByItself(principal: Principal): void {
    this.revokedTheirOwnKey.add(principal);
  }

  isRevoked(keyId: string, nowMs = Date.now()): boolean {
    const at = this.revokeAt.get(keyId);
    return at !== undefined && at <= nowMs;
  }

  /**
   * Before a response is sent, from what this instance heard — synchronously, the common case — or
   * `'ask-store'` when its event subscription was interrupted since the request began, so a
   * revocation may have gone unheard (then `assertLive` decides).
   */
  inFlightVerdict(principal: Principal, requestStartedMs: number): 'live' | 'revoked' | 'ask-store' {
    if (principal.kind !== 'api_key' || this.revokedTheirOwnKey.has(principal)) return 'live';
    if (this.isRevoked(principal.key.id)) return 'revoked';
    return this.store.eventsCoverSince(requestStartedMs) ? 'live' : 'ask-store';
  }

  /** For writes, just before commit: one store read, authoritative across instances. */
  async assertLive(principal: Principal): Promise<void> {
    if (principal.kind !== 'api_key') return;
    const at = await this.store.keyRevokeAt(principal.key.id);
    if (at !== null && at <= Date.now()) throw revokedError();
  }
}

export function revokedError(): AppError {
  return new AppError('API_KEY_REVOKED', 'This API key has been revoked.');
}
