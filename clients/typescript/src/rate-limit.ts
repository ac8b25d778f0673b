/** The key's rate-limit window as the last response that carried it said. */
export interface RateLimitState {
  /** Requests the window accepts. */
  limit: number;
  /** Requests left now. */
  remaining: number;
  /** Unix time, whole seconds, when `remaining` next grows. */
  reset: number;
}

/** `X-RateLimit-*` of a response; undefined when it has none (a call without an API key). */
export function readRateLimit(headers: Headers): RateLimitState | undefined {
  const limit = wholeNumber(headers.get('x-ratelimit-limit'));
  const remaining = wholeNumber(headers.get('x-ratelimit-remaining'));
  const reset = wholeNumber(headers.get('x-ratelimit-reset'));
  return limit === undefined || remaining === undefined || reset === undefined ? undefined : { limit, remaining, reset };
}

function wholeNumber(value: string | null): number | undefined {
  return value !== null && /^\s*\d+\s*$/.test(value) ? Number(value) : undefined;
}
