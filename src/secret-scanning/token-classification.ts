import { hashKey, isWellFormedKey } from '../api-keys/key-format';
import type { ApiKey } from '../generated/prisma/client';

export type Label = 'true_positive' | 'false_positive';
/** Where a leaked key of ours stands when the report arrives. */
export type KeyStanding = 'live' | 'revoked' | 'expired';
/** What was done about a leaked key, as its `api_key.leaked` event records it. */
export type LeakAction = 'revoked' | 'notified' | 'already_revoked' | 'expired';

/**
 * The hash to look a found token up by, or null when it cannot be a key of ours: wrong prefix,
 * length, alphabet or checksum — decided without a database read.
 */
export function lookupHash(token: string): string | null {
  return isWellFormedKey(token) ? hashKey(token) : null;
}

/** Any key we issued is a true positive, live or not: GitHub's label says whether the token is real. */
export function labelOf(key: ApiKey | undefined): Label {
  return key ? 'true_positive' : 'false_positive';
}

/** A key in a rotation's grace period (revocation scheduled later) is still live: it is revoked now. */
export function standingOf(key: Pick<ApiKey, 'revokedAt' | 'expiresAt'>, now: Date): KeyStanding {
  if (key.revokedAt && key.revokedAt <= now) return 'revoked';
  if (key.expiresAt && key.expiresAt <= now) return 'expired';
  return 'live';
}

/** What the organization's choice makes of a key's standing; `revoke` means revokeKey is called. */
export function plannedAction(standing: KeyStanding, leakResponse: 'revoke' | 'notify'): LeakAction | 'revoke' {
  if (standing === 'revoked') return 'already_revoked';
  if (standing === 'expired') return 'expired';
  return leakResponse === 'revoke' ? 'revoke' : 'notified';
}
