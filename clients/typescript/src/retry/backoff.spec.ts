import { backoffCeilingMs, isRetryable, nextRetryDelayMs, parseRetryAfterMs, RetryPolicy, retryDelayMs } from './backoff';

const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000, maxElapsedMs: 10_000 };
const failed = (over: Partial<Parameters<typeof nextRetryDelayMs>[0]> = {}) => ({
  attempt: 1, status: 429, method: 'POST', retryAfterMs: undefined, elapsedMs: 0, ...over,
});

describe('backoff arithmetic', () => {
  it('doubles the ceiling with every retry, up to maxDelayMs', () => {
    expect([1, 2, 3, 4, 5, 6, 40].map((retry) => backoffCeilingMs(retry, policy))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('full jitter: anywhere from 0 up to (not including) the ceiling', () => {
    expect(retryDelayMs(3, undefined, policy, () => 0)).toBe(0);
    expect(retryDelayMs(3, undefined, policy, () => 0.5)).toBe(200);
    expect(retryDelayMs(3, undefined, policy, () => 0.999999)).toBe(399);
  });

  it('never sooner than Retry-After: it is the floor, jitter comes on top', () => {
    expect(retryDelayMs(1, 2000, policy, () => 0)).toBe(2000);
    expect(retryDelayMs(1, 2000, policy, () => 0.5)).toBe(2050);
    // Even when Retry-After is longer than any backoff ceiling.
    expect(retryDelayMs(9, 30_000, policy, () => 0.999999)).toBe(30_999);
  });

  it('retries 429 for every method, 503 only for idempotent methods, nothing else', () => {
    for (const method of ['GET', 'HEAD', 'DELETE', 'POST', 'PATCH', 'get']) expect(isRetryable(429, method)).toBe(true);
    for (const method of ['GET', 'HEAD', 'DELETE', 'PUT', 'OPTIONS', 'delete']) expect(isRetryable(503, method)).toBe(true);
    for (const method of ['POST', 'PATCH']) expect(isRetryable(503, method)).toBe(false);
    for (const status of [400, 401, 403, 404, 405, 409, 413, 415, 500, 502, 504]) expect(isRetryable(status, 'GET')).toBe(false);
  });

  it('stops after maxAttempts attempts in all', () => {
    expect(nextRetryDelayMs(failed({ attempt: 4 }), policy, () => 0)).toBe(0);
    expect(nextRetryDelayMs(failed({ attempt: 5 }), policy, () => 0)).toBeUndefined();
    expect(nextRetryDelayMs(failed(), { ...policy, maxAttempts: 1 }, () => 0)).toBeUndefined();
  });

  it('stops when the wait would end past maxElapsedMs', () => {
    expect(nextRetryDelayMs(failed({ elapsedMs: 7000, retryAfterMs: 3000 }), policy, () => 0)).toBe(3000);
    expect(nextRetryDelayMs(failed({ elapsedMs: 7001, retryAfterMs: 3000 }), policy, () => 0)).toBeUndefined();
    expect(nextRetryDelayMs(failed({ retryAfterMs: 60_000 }), policy, () => 0)).toBeUndefined();
  });

  it('does not retry a final status', () => {
    expect(nextRetryDelayMs(failed({ status: 404, method: 'GET' }), policy)).toBeUndefined();
    expect(nextRetryDelayMs(failed({ status: 503, method: 'POST' }), policy)).toBeUndefined();
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfterMs('12', now)).toBe(12_000);
    expect(parseRetryAfterMs(' 1 ', now)).toBe(1000);
    expect(parseRetryAfterMs('Wed, 01 Jan 2025 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfterMs('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
    for (const value of [null, undefined, '', 'soon', '-3', '1.5']) expect(parseRetryAfterMs(value, now)).toBeUndefined();
  });
});
