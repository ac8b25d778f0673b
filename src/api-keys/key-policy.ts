import type { Principal } from '../auth/principal';
import type { RateLimitPolicy } from '../config/app-config';
import { AppError, FieldError } from '../errors/app-error';
import type { ApiKey } from '../generated/prisma/client';

/**
 * What a caller of the API may ask of a new key (CONTRACT §5): no looser limit than the
 * platform's, and — for a key — no key that outlives it. Operators are not held to these.
 */

/**
 * The most requests a sliding window of `limit` admits in one interval of `intervalSeconds`:
 * the interval is covered by ⌈interval / window⌉ of its windows, each admitting `max`.
 */
export function peakRequests(limit: RateLimitPolicy, intervalSeconds: number): number {
  return limit.max * Math.ceil(intervalSeconds / limit.windowSeconds);
}

/** A key's own limit is allowed when it admits no more than the platform's in any platform window. */
export function isWithinPlatformLimit(limit: RateLimitPolicy, platform: RateLimitPolicy): boolean {
  return peakRequests(limit, platform.windowSeconds) <= platform.max;
}

export function rateLimitProblem(limit: RateLimitPolicy, platform: RateLimitPolicy): FieldError | null {
  if (isWithinPlatformLimit(limit, platform)) return null;
  const { max, windowSeconds } = platform;
  return {
    field: 'rate_limit',
    message:
      `rate_limit may only be stricter than the platform limit of ${max} requests per ${windowSeconds} seconds: ` +
      `max × ⌈${windowSeconds} / window_seconds⌉ must be at most ${max}, and ${limit.max} per ${limit.windowSeconds} seconds ` +
      `admits up to ${peakRequests(limit, windowSeconds)} in ${windowSeconds} seconds. A looser limit can be set only by an operator.`,
  };
}

/** A key may create keys only within its own lifetime; members have no such bound. */
export function expiryProblem(principal: Principal, expiresAt: Date | null): FieldError | null {
  const until = keyExpiry(principal);
  if (until === null || (expiresAt !== null && expiresAt.getTime() <= until.getTime())) return null;
  return {
    field: 'expires_at',
    message:
      `This API key expires at ${until.toISOString()}, and a key cannot create a key that outlives it: ` +
      `expires_at is required and must be no later than ${until.toISOString()}.`,
  };
}

/**
 * Rotation gives the new key the old one's expiry: a key may rotate only keys that do not outlive
 * it (itself included), or an expiring key could trade itself for a key that never expires.
 */
export function assertMayRotate(principal: Principal, key: ApiKey): void {
  const until = keyExpiry(principal);
  if (until === null || (key.expiresAt !== null && key.expiresAt <= until)) return;
  throw new AppError(
    'FORBIDDEN',
    `This API key expires at ${until.toISOString()} and cannot rotate a key that expires later or never: ` +
      'the new key would outlive it. Rotate it with a key that lives as long, or from the dashboard.',
  );
}

function keyExpiry(principal: Principal): Date | null {
  return principal.kind === 'api_key' && principal.key.expiresAtMs !== null ? new Date(principal.key.expiresAtMs) : null;
}

/** The bounds of any key's own limit, an operator's included (as the API's body validation has them). */
export const OWN_LIMIT_BOUNDS = { max: 1_000_000, windowSeconds: 86_400 };

export function operatorLimitProblems(limit: RateLimitPolicy): FieldError[] {
  const problems: FieldError[] = [];
  if (!isWholeIn(limit.max, OWN_LIMIT_BOUNDS.max)) problems.push({ field: 'max', message: `max must be a whole number from 1 to ${OWN_LIMIT_BOUNDS.max}` });
  if (!isWholeIn(limit.windowSeconds, OWN_LIMIT_BOUNDS.windowSeconds)) {
    problems.push({ field: 'window_seconds', message: `window_seconds must be a whole number from 1 to ${OWN_LIMIT_BOUNDS.windowSeconds}` });
  }
  return problems;
}

function isWholeIn(value: number, max: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= max;
}
