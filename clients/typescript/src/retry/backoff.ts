/** How hard the client tries again after `429` (any method) or `503` (idempotent methods). */
export interface RetryPolicy {
  /** Attempts in all, the first included; 1 never retries. */
  maxAttempts: number;
  /** Ceiling of the random wait before the first retry; it doubles with every retry. */
  baseDelayMs: number;
  /** The ceiling stops doubling here. */
  maxDelayMs: number;
  /** No retry starts later than this after the first attempt: past it, the error is thrown. */
  maxElapsedMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  maxAttempts: 6,
  baseDelayMs: 250,
  maxDelayMs: 20_000,
  maxElapsedMs: 60_000,
};

// RFC 9110 §9.2.2: repeating these has the same effect as sending them once.
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** A rejected request (429) did nothing, so any method may be sent again; 503 only when repeating is harmless. */
export function isRetryable(status: number, method: string): boolean {
  if (status === 429) return true;
  return status === 503 && IDEMPOTENT_METHODS.has(method.toUpperCase());
}

/** Ceiling of the random wait before retry number `retry` (1 = the first retry): base·2^(retry−1), capped. */
export function backoffCeilingMs(retry: number, policy: RetryPolicy): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
}

/**
 * The wait before retry number `retry`: what `Retry-After` asks for (the floor: never sooner), plus
 * "full jitter", a uniformly random share of the backoff ceiling, so that clients told the same
 * `Retry-After` do not all come back at the same instant.
 */
export function retryDelayMs(retry: number, retryAfterMs: number | undefined, policy: RetryPolicy, random: () => number = Math.random): number {
  return Math.max(0, retryAfterMs ?? 0) + Math.floor(random() * backoffCeilingMs(retry, policy));
}

export interface FailedAttempt {
  /** 1 for the first attempt. */
  attempt: number;
  status: number;
  method: string;
  retryAfterMs: number | undefined;
  /** Since the first attempt started. */
  elapsedMs: number;
}

/** The wait before trying again, or undefined when the status is final or the budget is spent. */
export function nextRetryDelayMs(failed: FailedAttempt, policy: RetryPolicy, random: () => number = Math.random): number | undefined {
  if (!isRetryable(failed.status, failed.method) || failed.attempt >= policy.maxAttempts) return undefined;
  const delay = retryDelayMs(failed.attempt, failed.retryAfterMs, policy, random);
  return failed.elapsedMs + delay > policy.maxElapsedMs ? undefined : delay;
}

/** `Retry-After` in milliseconds: whole seconds, or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfterMs(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP date names its day or month; a bare '-3' or '1.5' is no date, whatever Date.parse makes of it.
  const date = /[a-z]/i.test(trimmed) ? Date.parse(trimmed) : NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
