import type Redis from 'ioredis';
import type request from 'supertest';
import { ApiKeysService } from '../../src/api-keys/api-keys.service';
import type { TestApp } from './test-app';

/** The rate-limit figures of one response (CONTRACT §3), parsed from all five headers. */
export interface RateLimitHeaders {
  limit: number;
  remaining: number;
  /** Unix seconds when Remaining next grows. */
  reset: number;
  /** `RateLimit-Policy: "default";q=<limit>;w=<window seconds>` */
  policy: { q: number; w: number };
  /** `RateLimit: "default";r=<remaining>;t=<seconds until reset>` */
  current: { r: number; t: number };
}

const POLICY = /^"default";q=(\d+);w=(\d+)$/;
const CURRENT = /^"default";r=(\d+);t=(\d+)$/;

/**
 * Asserts that a response carries all five rate-limit headers, that they are well formed and
 * that the GitHub-style and IETF-draft fields tell the same story; returns the figures.
 * `receivedAtMs` (when the response arrived) lets `t` be checked against `X-RateLimit-Reset`.
 */
export function expectRateLimitHeaders(response: request.Response, receivedAtMs = Date.now()): RateLimitHeaders {
  const headers = response.headers;
  const present = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'ratelimit-policy', 'ratelimit'].filter(
    (name) => headers[name] !== undefined,
  );
  expect({ status: response.status, present }).toEqual({
    status: response.status,
    present: ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'ratelimit-policy', 'ratelimit'],
  });
  for (const name of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']) expect(headers[name]).toMatch(/^\d+$/);
  expect(headers['ratelimit-policy']).toMatch(POLICY);
  expect(headers.ratelimit).toMatch(CURRENT);
  const [, q, w] = POLICY.exec(headers['ratelimit-policy'])!.map(Number);
  const [, r, t] = CURRENT.exec(headers.ratelimit)!.map(Number);
  const parsed: RateLimitHeaders = {
    limit: Number(headers['x-ratelimit-limit']),
    remaining: Number(headers['x-ratelimit-remaining']),
    reset: Number(headers['x-ratelimit-reset']),
    policy: { q, w },
    current: { r, t },
  };
  expect(parsed.policy.q).toBe(parsed.limit);
  expect(parsed.current.r).toBe(parsed.remaining);
  expect(parsed.remaining).toBeLessThanOrEqual(parsed.limit);
  expect(parsed.current.t).toBeLessThanOrEqual(parsed.policy.w);
  // t is "seconds until reset", reset is "unix seconds at reset": they agree within rounding.
  expect(Math.abs(parsed.reset - receivedAtMs / 1000 - parsed.current.t)).toBeLessThanOrEqual(1.5);
  return parsed;
}

/** Asserts the §5 429: envelope, message, `retry_after` equal to `Retry-After`, n ≥ 1; returns n. */
export function expectRateLimited(response: request.Response): number {
  expect({ status: response.status, code: response.body?.error?.code }).toEqual({ status: 429, code: 'RATE_LIMITED' });
  const header = response.headers['retry-after'];
  expect(header).toMatch(/^\d+$/);
  const seconds = Number(header);
  expect(seconds).toBeGreaterThanOrEqual(1);
  expect(response.body.error.retry_after).toBe(seconds);
  expect(response.body.error.message).toBe(`Rate limit exceeded. Retry after ${seconds} seconds.`);
  expect(response.body.error.request_id).toBe(response.headers['x-request-id']);
  return seconds;
}

/** A further key of an organization, made through the service, optionally with its own limit. */
export async function issueKey(
  target: TestApp,
  organizationId: string,
  rateLimit?: { max: number; windowSeconds: number },
): Promise<{ key: string; keyId: string }> {
  const created = await target.app
    .get(ApiKeysService)
    .issue({ organizationId, name: 'rate-limit test key', rateLimit: rateLimit ?? null }, { type: 'system', id: 'test' });
  return { key: created.key, keyId: created.id };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

export function sleepUntil(atMs: number): Promise<void> {
  return sleep(atMs - Date.now());
}

/** `INFO commandstats` as command name → calls (`cmdstat_config|resetstat` → `config|resetstat`). */
export async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match) calls.set(match[1], Number(match[2]));
  }
  return calls;
}

/** after − before, per command, leaving out commands whose count did not move. */
export function callDeltas(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const deltas: Record<string, number> = {};
  for (const [name, calls] of after) {
    const delta = calls - (before.get(name) ?? 0);
    if (delta !== 0) deltas[name] = delta;
  }
  return deltas;
}
