import type { ApiKey } from '../generated/prisma/client';
import type { KeyState } from '../store/admission-store';

/** The key's row as the admission store holds it: every write and seed of a key's state goes through here. */
export function keyStateOf(row: ApiKey): KeyState {
  return {
    revokeAtMs: row.revokedAt?.getTime() ?? null,
    expiresAtMs: row.expiresAt?.getTime() ?? null,
    rateLimit: ownRateLimitOf(row),
  };
}

function ownRateLimitOf(row: ApiKey): KeyState['rateLimit'] {
  if (row.rateLimitMax === null || row.rateLimitWindowSeconds === null) return null;
  return { max: row.rateLimitMax, windowMs: row.rateLimitWindowSeconds * 1000 };
}
