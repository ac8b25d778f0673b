import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type ErrorCode, LucitraApiError, LucitraClient, type LucitraClientOptions, type RetryEvent,
} from '../clients/typescript/src/index';
import { UsageFlusher } from '../src/api-keys/usage/usage-flusher';
import { AppConfig } from '../src/config/app-config';
import { Backend, SeededOrganization, TestApp, backends, seedOrganization, startApp } from './support/test-app';

/**
 * The typed client (clients/typescript) against the real service, on each backend: its types come
 * from the document the service serves, its retries ride out a 429 storm within the key's limit.
 */

const EXPORTED_DOCUMENT = path.resolve(__dirname, '../clients/typescript/openapi.json');
/** No background flush (the storm test flushes when it means to), no brute-force brake. */
const QUIET: Partial<AppConfig> = { usageFlushIntervalMs: 600_000, authFailureMax: 1_000_000 };
const UNKNOWN_KEY_ID = 'key_0000000000000000000000000000';

// The error codes of CONTRACT §4, as the client reads them off the generated document: this file
// (and `npm run -s lint:types`) stops compiling if the two drift apart.
type ContractCode =
  | 'VALIDATION_FAILED' | 'UNAUTHORIZED' | 'INVALID_API_KEY' | 'API_KEY_REVOKED' | 'API_KEY_EXPIRED' | 'INVALID_SESSION'
  | 'FORBIDDEN' | 'ENTERPRISE_REQUIRED' | 'NOT_FOUND' | 'METHOD_NOT_ALLOWED' | 'CONFLICT' | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE' | 'RATE_LIMITED' | 'INTERNAL_ERROR' | 'SERVICE_UNAVAILABLE';
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const CODES_ARE_THE_CONTRACTS: Same<ErrorCode, ContractCode> = true;

/** One request as the wire saw it: the client's fetch, recorded. */
interface Exchange {
  call: string | null;
  method: string;
  path: string;
  status: number;
  requestId: string | null;
  retryAfterSeconds: number | undefined;
  sentAt: number;
  receivedAt: number;
}

function recordingFetch(log: Exchange[]): (request: Request) => Promise<Response> {
  return async (request) => {
    const sentAt = Date.now();
    const response = await fetch(request);
    const retryAfter = response.headers.get('retry-after');
    log.push({
      call: request.headers.get('x-test-call'),
      method: request.method,
      path: new URL(request.url).pathname + new URL(request.url).search,
      status: response.status,
      requestId: response.headers.get('x-request-id'),
      retryAfterSeconds: retryAfter === null ? undefined : Number(retryAfter),
      sentAt,
      receivedAt: Date.now(),
    });
    return response;
  };
}

async function failureOf(call: Promise<unknown>): Promise<LucitraApiError> {
  const error = await call.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(LucitraApiError);
  return error as LucitraApiError;
}

describe.each(backends())('typed client on $name', (backend: Backend) => {
  let target: TestApp;
  let org: SeededOrganization;
  let log: Exchange[];
  let client: LucitraClient;
  const clientFor = (apiKey: string, options: Partial<LucitraClientOptions> = {}) =>
    new LucitraClient({ baseUrl: target.url, apiKey, fetch: recordingFetch(log), ...options });

  beforeAll(async () => {
    target = await startApp(backend, QUIET);
    org = await seedOrganization(target, 'free', 'Client org');
  });
  afterAll(() => target?.close());
  beforeEach(() => {
    log = [];
    client = clientFor(org.key);
  });

  it('is typed from the document the service serves', async () => {
    const served = await fetch(`${target.url}/docs/openapi.json`);
    expect(served.status).toBe(200);
    // Missing or stale when the decorators changed since the last `npm run -s client:generate` (npm test runs it).
    const exported = existsSync(EXPORTED_DOCUMENT) ? JSON.parse(readFileSync(EXPORTED_DOCUMENT, 'utf8')) : 'run npm run -s client:generate';
    expect(exported).toEqual(await served.json());
  });

  it('creates, reads and revokes a key; the revoked key is refused', async () => {
    const { data: created, response } = await client.POST('/v1/api-keys', { body: { name: 'client key', environment: 'staging' } });
    expect(response.status).toBe(201);
    expect(created).toMatchObject({ object: 'api_key', name: 'client key', environment: 'staging', revoked_at: null });
    expect(created.key).toMatch(/^luci_[A-Za-z0-9]{32,}$/);
    expect(created.start).toBe(created.key.slice(0, 9));

    const { data: read } = await client.GET('/v1/api-keys/{id}', { params: { path: { id: created.id } } });
    expect(read).toEqual(Object.fromEntries(Object.entries(created).filter(([field]) => field !== 'key')));

    const { data: revoked } = await client.DELETE('/v1/api-keys/{id}', { params: { path: { id: created.id } } });
    expect(revoked.id).toBe(created.id);
    expect(Date.parse(revoked.revoked_at ?? '')).not.toBeNaN();

    const refused = await failureOf(clientFor(created.key).GET('/v1/organization'));
    expect(refused).toMatchObject({ status: 401, code: 'API_KEY_REVOKED' });
  });

  it('follows next_cursor over several pages: every item once, newest first', async () => {
    const made: string[] = [];
    for (let n = 0; n < 7; n++) made.push((await client.POST('/v1/datasets', { body: { name: `dataset ${n}` } })).data.id);
    log.length = 0;

    const listed: string[] = [];
    for await (const dataset of client.paginate('/v1/datasets', { limit: 3 })) listed.push(dataset.id);

    expect(listed).toEqual([...made].reverse());
    const pages = log.map((exchange) => exchange.path);
    expect(pages).toHaveLength(3);
    expect(pages[0]).toBe('/v1/datasets?limit=3');
    expect(pages[1]).toBe(`/v1/datasets?limit=3&cursor=${made[4]}`);
    expect(pages[2]).toBe(`/v1/datasets?limit=3&cursor=${made[1]}`);

    // The organization's keys: the seeded one and the one revoked above, at least; one per page.
    const keys: string[] = [];
    for await (const key of client.paginate('/v1/api-keys', { limit: 1 })) keys.push(key.id);
    expect(keys).toContain(org.keyId);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBeGreaterThan(1);
  });

  it('throws NOT_FOUND with the request id of the response, without retrying', async () => {
    const error = await failureOf(client.GET('/v1/api-keys/{id}', { params: { path: { id: UNKNOWN_KEY_ID } } }));
    expect(log).toHaveLength(1);
    expect(CODES_ARE_THE_CONTRACTS).toBe(true);
    expect(error).toMatchObject({ name: 'LucitraApiError', status: 404, code: 'NOT_FOUND' });
    expect(error.requestId).toMatch(/^req_[0-9a-f]{16,}$/);
    expect(error.requestId).toBe(log[0].requestId);
    expect(error.message.length).toBeGreaterThan(0);
  });

  it('throws VALIDATION_FAILED with the fields refused', async () => {
    const error = await failureOf(client.POST('/v1/api-keys', { body: { name: '' } }));
    expect(error).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'name' })]));
  });

  it('throws ENTERPRISE_REQUIRED with the upgrade URL, without retrying', async () => {
    const error = await failureOf(client.paginate('/v1/audit/events', { limit: 10 }).next());
    expect(error).toMatchObject({ status: 403, code: 'ENTERPRISE_REQUIRED', upgradeUrl: target.config.upgradeUrl });
    expect(log.map((exchange) => exchange.status)).toEqual([403]);
  });

  it('keeps the rate-limit state of the last response', async () => {
    expect(client.rateLimit).toBeUndefined();
    await client.GET('/v1/organization');
    const last = log[log.length - 1];
    expect(client.rateLimit).toEqual({
      limit: target.config.rateLimit.max,
      remaining: expect.any(Number),
      reset: expect.any(Number),
    });
    expect(client.rateLimit!.remaining).toBeLessThan(target.config.rateLimit.max);
    expect(client.rateLimit!.reset).toBeGreaterThanOrEqual(Math.floor(last.sentAt / 1000));
  });

  it('rides out a 429 storm: every call succeeds, never sooner than Retry-After, never over the limit', async () => {
    const limit = { max: 5, window_seconds: 3 };
    const { data: stormKey } = await client.POST('/v1/api-keys', { body: { name: 'storm', rate_limit: limit } });
    log.length = 0;
    const retries: RetryEvent[] = [];
    const storm = clientFor(stormKey.key, { retry: { maxAttempts: 20, maxElapsedMs: 45_000 }, onRetry: (event) => retries.push(event) });

    const calls = Array.from({ length: 20 }, (_, n) => storm.GET('/v1/organization', { headers: { 'X-Test-Call': String(n) } }));
    const results = await Promise.all(calls);

    expect(results.map(({ data }) => data.id)).toEqual(Array(20).fill(org.id));
    const accepted = log.filter((exchange) => exchange.status === 200);
    const refused = log.filter((exchange) => exchange.status === 429);
    expect({ accepted: accepted.length, other: log.length - accepted.length - refused.length }).toEqual({ accepted: 20, other: 0 });
    expect(refused.length).toBeGreaterThan(0);
    expect(retries).toHaveLength(refused.length);

    // Each call waited at least what Retry-After said before sending again.
    for (let n = 0; n < 20; n++) {
      const attempts = log.filter((exchange) => exchange.call === String(n)).sort((a, b) => a.sentAt - b.sentAt);
      expect(attempts[attempts.length - 1].status).toBe(200);
      for (let i = 1; i < attempts.length; i++) {
        const previous = attempts[i - 1];
        expect(previous.retryAfterSeconds).toBeGreaterThanOrEqual(1);
        expect(attempts[i].sentAt - previous.receivedAt).toBeGreaterThanOrEqual(previous.retryAfterSeconds! * 1000);
      }
    }

    // Never more than `max` accepted in any window: any max+1 accepted requests span at least a window
    // (from the first one's sending to the last one's answer; 50 ms for the clocks' granularity).
    const byAnswer = [...accepted].sort((a, b) => a.receivedAt - b.receivedAt);
    for (let i = 0; i + limit.max < byAnswer.length; i++) {
      const group = byAnswer.slice(i, i + limit.max + 1);
      const span = Math.max(...group.map((e) => e.receivedAt)) - Math.min(...group.map((e) => e.sentAt));
      expect(span).toBeGreaterThanOrEqual(limit.window_seconds * 1000 - 50);
    }
    expect(storm.rateLimit).toMatchObject({ limit: limit.max });

    // The service counted the same: 20 accepted, and as many refused as the client was told.
    await target.app.get(UsageFlusher).flush();
    const { data: usage } = await client.GET('/v1/api-keys/{id}/usage', {
      params: { path: { id: stormKey.id }, query: { granularity: 'day' } },
    });
    const sum = (field: 'requests' | 'rate_limited') => usage.data.reduce((total, bucket) => total + bucket[field], 0);
    expect({ requests: sum('requests'), rate_limited: sum('rate_limited') }).toEqual({ requests: 20, rate_limited: refused.length });
  });
});
