import { randomInt } from 'node:crypto';
import Redis from 'ioredis';
import type request from 'supertest';
import { ApiKeysService } from '../src/api-keys/api-keys.service';
import { generateKey } from '../src/api-keys/key-format';
import { RedisCommandProxy } from './support/redis-command-proxy';
import {
  callDeltas, commandCalls, expectRateLimitHeaders, expectRateLimited, issueKey, sleep, sleepUntil,
} from './support/rate-limit';
import { TcpProxy } from './support/tcp-proxy';
import { Backend, TestApp, backends, bearer, expectEnvelope, seedOrganization, sharedBackend, startApp } from './support/test-app';

/** An id of the right shape that no key has. */
const UNKNOWN_KEY_ID = 'key_000000000000ffffffffffffffff';

interface Timed {
  response: request.Response;
  sentAt: number;
  receivedAt: number;
}

async function timed(send: () => PromiseLike<request.Response>): Promise<Timed> {
  const sentAt = Date.now();
  const response = await send();
  return { response, sentAt, receivedAt: Date.now() };
}

/** A client address of its own for each brake test, so runs and other suites never share a bucket. */
function freshClientIp(): string {
  return `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
}

describe.each(backends({ cluster: true }))('rate limiting on $name', (backend: Backend) => {
  /** Defaults (100 per 60 s); the brute-force brake at 5; client IP from X-Forwarded-For. */
  let target: TestApp;
  /** A second instance on the same store (shared backend only). */
  let second: TestApp | undefined;
  /** A short configured window: 3 per 2 s. */
  let short: TestApp;

  beforeAll(async () => {
    const overrides = { authFailureMax: 5, trustProxy: true };
    target = await startApp(backend, overrides);
    if (backend.shared) second = await startApp(backend, overrides);
    short = await startApp(backend, { rateLimit: { max: 3, windowSeconds: 2 } });
  });
  afterAll(async () => {
    await target?.close();
    await second?.close();
    await short?.close();
  });

  it('accepts exactly 100 of 300 concurrent requests of one fresh key on one instance', async () => {
    const { key } = await seedOrganization(target);
    const responses = await Promise.all(
      Array.from({ length: 300 }, () => timed(() => target.http.get('/v1/organization').set(bearer(key)))),
    );
    expectExactlyOneHundred(responses);
  });

  // Two instances need a shared store: defined for the PostgreSQL + Redis backend only.
  if (backend.shared) it('accepts exactly 100 of 300 concurrent requests of one fresh key split across two instances', async () => {
    const { key } = await seedOrganization(target);
    const instances = [target, second!];
    const responses = await Promise.all(
      Array.from({ length: 300 }, (_, index) => timed(() => instances[index % 2].http.get('/v1/organization').set(bearer(key)))),
    );
    expectExactlyOneHundred(responses);
    // both instances took part in the accepting
    const acceptedBy = new Set(responses.map(({ response }, index) => (response.status === 200 ? index % 2 : -1)).filter((i) => i >= 0));
    expect([...acceptedBy].sort()).toEqual([0, 1]);
  });

  it('counts Remaining down 99…0 with a steady Reset, then answers the 101st 429 with matching Retry-After', async () => {
    const { key } = await seedOrganization(target);
    const instances = second ? [target, second] : [target];
    const seen: number[] = [];
    let firstSentAt = 0;
    let firstReceivedAt = 0;
    let reset = 0;
    for (let index = 0; index < 100; index++) {
      const { response, sentAt, receivedAt } = await timed(() =>
        instances[index % instances.length].http.get('/v1/organization').set(bearer(key)),
      );
      expect(response.status).toBe(200);
      const headers = expectRateLimitHeaders(response, receivedAt);
      expect(headers.limit).toBe(100);
      expect(headers.policy.w).toBe(60);
      if (index === 0) {
        [firstSentAt, firstReceivedAt, reset] = [sentAt, receivedAt, headers.reset];
      }
      // Remaining grows only when the first request leaves the window
      expect(headers.reset).toBe(reset);
      seen.push(headers.remaining);
    }
    expect(seen).toEqual(Array.from({ length: 100 }, (_, index) => 99 - index));
    // Reset = the first request's admission time + the window, in whole seconds rounded up
    expect(reset).toBeGreaterThanOrEqual(Math.ceil((firstSentAt + 60_000) / 1000));
    expect(reset).toBeLessThanOrEqual(Math.ceil((firstReceivedAt + 60_000) / 1000));

    const { response, receivedAt } = await timed(() => target.http.get('/v1/organization').set(bearer(key)));
    const seconds = expectRateLimited(response);
    const headers = expectRateLimitHeaders(response, receivedAt);
    expect({ limit: headers.limit, remaining: headers.remaining, reset: headers.reset }).toEqual({ limit: 100, remaining: 0, reset });
    // n is the time until the first request leaves the window: ≈ Reset − now, and within the window
    expect(seconds).toBeLessThanOrEqual(60);
    expect(Math.abs(seconds - headers.current.t)).toBeLessThanOrEqual(1);
    expect(Math.abs(seconds - (reset - receivedAt / 1000))).toBeLessThanOrEqual(1.5);
  });

  it('puts the headers on 2xx, 4xx, 5xx and 429 responses to key-authenticated requests', async () => {
    const organization = await seedOrganization(target);
    const { key } = await issueKey(target, organization.id, { max: 7, windowSeconds: 60 });
    const responses: [string, request.Response, number][] = [];
    const check = async (label: string, status: number, code: string | undefined, send: () => PromiseLike<request.Response>) => {
      const response = await send();
      const receivedAt = Date.now();
      if (code) expectEnvelope(response, status, code);
      else expect(response.status).toBe(status);
      responses.push([label, response, receivedAt]);
    };
    await check('200', 200, undefined, () => target.http.get('/v1/organization').set(bearer(key)));
    await check('404 unknown key id', 404, 'NOT_FOUND', () => target.http.get(`/v1/api-keys/${UNKNOWN_KEY_ID}`).set(bearer(key)));
    await check('404 unknown route', 404, 'NOT_FOUND', () => target.http.get('/v1/no-such-thing').set(bearer(key)));
    await check('405', 405, 'METHOD_NOT_ALLOWED', () => target.http.put('/v1/api-keys').set(bearer(key)).send({}));
    await check('400 validation', 400, 'VALIDATION_FAILED', () => target.http.post('/v1/api-keys').set(bearer(key)).send({ name: 42 }));
    await check('403 tier', 403, 'ENTERPRISE_REQUIRED', () => target.http.get('/v1/audit/events').set(bearer(key)));
    const spy = jest.spyOn(target.app.get(ApiKeysService), 'list').mockRejectedValueOnce(new Error('boom'));
    await check('500', 500, 'INTERNAL_ERROR', () => target.http.get('/v1/api-keys').set(bearer(key)));
    spy.mockRestore();
    await check('429', 429, 'RATE_LIMITED', () => target.http.get('/v1/organization').set(bearer(key)));

    const seen = responses.map(([label, response, receivedAt]) => {
      const headers = expectRateLimitHeaders(response, receivedAt);
      return [label, headers.limit, headers.remaining, headers.policy.w];
    });
    expect(seen).toEqual(responses.map(([label], index) => [label, 7, Math.max(0, 6 - index), 60]));
    expectRateLimited(responses[responses.length - 1][1]);
  });

  it('slides: with 3 per 2 s, requests age out one by one, and rejected requests do not count', async () => {
    const { key } = await seedOrganization(short);
    const get = () => timed(() => short.http.get('/v1/organization').set(bearer(key)));

    // three accepted requests, ~500 ms apart
    const accepted: Timed[] = [];
    const start = Date.now();
    for (let index = 0; index < 3; index++) {
      await sleepUntil(start + index * 500);
      const sent = await get();
      expect(sent.response.status).toBe(200);
      expect(expectRateLimitHeaders(sent.response, sent.receivedAt).remaining).toBe(2 - index);
      accepted.push(sent);
    }

    // at ≈1.5 s all three are in the window: a burst of rejections, none of which may count
    await sleepUntil(start + 1500);
    const burst = await Promise.all(Array.from({ length: 10 }, () => get()));
    for (const { response, receivedAt } of burst) {
      // the oldest (≈0 s) leaves at ≈2.0 s, 0.5 s from now: n = 1 (the newest would say 2)
      expect(expectRateLimited(response)).toBe(1);
      expect(expectRateLimitHeaders(response, receivedAt).remaining).toBe(0);
    }

    // each accepted request frees exactly one slot when it is 2 s old — not all at once
    const freedAt: Timed[] = [];
    for (let index = 0; index < 3; index++) {
      await sleepUntil(accepted[index].receivedAt + 2000 + 100);
      const freed = await get();
      expect({ slot: index, status: freed.response.status }).toEqual({ slot: index, status: 200 });
      const headers = expectRateLimitHeaders(freed.response, freed.receivedAt);
      expect(headers.remaining).toBe(0);
      // Reset now points at the next oldest request's exit
      const nextOldest = index < 2 ? accepted[index + 1] : freedAt[0];
      expect(headers.reset).toBeGreaterThanOrEqual(Math.ceil((nextOldest.sentAt + 2000) / 1000));
      expect(headers.reset).toBeLessThanOrEqual(Math.ceil((nextOldest.receivedAt + 2000) / 1000));
      freedAt.push(freed);
      if (index < 2) {
        // the next accepted request is still inside the window: a fixed window would accept this one
        const next = await get();
        expect(next.sentAt).toBeLessThan(accepted[index + 1].sentAt + 2000);
        expect({ slot: index, status: next.response.status }).toEqual({ slot: index, status: 429 });
        expectRateLimited(next.response);
      }
    }
  });

  it('gives an honest Retry-After: a request n seconds later is accepted, one well before is not', async () => {
    // 2 per 3 s; the two requests 1.2 s apart, so the oldest (not the newest) decides n
    const organization = await seedOrganization(target);
    const { key } = await issueKey(target, organization.id, { max: 2, windowSeconds: 3 });
    const get = () => timed(() => target.http.get('/v1/organization').set(bearer(key)));
    const first = await get();
    expect(first.response.status).toBe(200);
    await sleepUntil(first.sentAt + 1200);
    expect((await get()).response.status).toBe(200);

    const limited = await get();
    const seconds = expectRateLimited(limited.response);
    // n = ceil((first admission + 3 s − this admission) / 1 s), within what the client can observe
    const earliest = Math.ceil((first.sentAt + 3000 - limited.receivedAt) / 1000);
    const latest = Math.ceil((first.receivedAt + 3000 - limited.sentAt) / 1000);
    expect(seconds).toBeGreaterThanOrEqual(Math.max(1, earliest));
    expect(seconds).toBeLessThanOrEqual(latest);
    expect(seconds).toBe(2);

    // More than n − 1 seconds remained when the 429 was decided (at or after it was sent).
    await sleepUntil(limited.sentAt + (seconds - 1) * 1000 - 150);
    expectRateLimited((await get()).response);

    // Nothing else is sent; n seconds after the 429 arrived, a request is accepted.
    await sleepUntil(limited.receivedAt + seconds * 1000);
    expect((await get()).response.status).toBe(200);
  });

  it('keeps one bucket per key: key A exhausted, key B of the same organization is untouched', async () => {
    const organization = await seedOrganization(target);
    const other = await issueKey(target, organization.id);
    const instances = second ? [target, second] : [target];
    const responses = await Promise.all(
      Array.from({ length: 120 }, (_, index) => instances[index % instances.length].http.get('/v1/organization').set(bearer(organization.key))),
    );
    expect(responses.filter((response) => response.status === 200)).toHaveLength(100);
    expectRateLimited(await target.http.get('/v1/organization').set(bearer(organization.key)));

    const fine = await target.http.get('/v1/organization').set(bearer(other.key));
    expect(fine.status).toBe(200);
    expect(expectRateLimitHeaders(fine).remaining).toBe(99);
    // and A is still limited (B's request did not touch A's bucket)
    expectRateLimited(await target.http.get('/v1/organization').set(bearer(organization.key)));
  });

  it('applies a per-key rate_limit set on POST /v1/api-keys', async () => {
    const { key } = await seedOrganization(target);
    const created = await target.http
      .post('/v1/api-keys')
      .set(bearer(key))
      .send({ name: 'small plan', rate_limit: { max: 5, window_seconds: 60 } });
    expect(created.status).toBe(201);
    expect(created.body.rate_limit).toEqual({ max: 5, window_seconds: 60 });

    const instances = second ? [second, target] : [target];
    const remaining: number[] = [];
    for (let index = 0; index < 5; index++) {
      const response = await instances[index % instances.length].http.get('/v1/organization').set(bearer(created.body.key));
      expect(response.status).toBe(200);
      const headers = expectRateLimitHeaders(response);
      expect({ limit: headers.limit, policy: headers.policy }).toEqual({ limit: 5, policy: { q: 5, w: 60 } });
      remaining.push(headers.remaining);
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    const limited = await target.http.get('/v1/organization').set(bearer(created.body.key));
    expectRateLimited(limited);
    expect(expectRateLimitHeaders(limited).limit).toBe(5);
    // the key that created it still has its default bucket
    expect(expectRateLimitHeaders(await target.http.get('/v1/organization').set(bearer(key))).limit).toBe(100);
  });

  it('brakes failed authentication per client IP: 5 × 401, then 429, while a valid key from that IP is served', async () => {
    const { key } = await seedOrganization(target);
    const ip = freshClientIp();
    const instances = second ? [target, second] : [target];
    // a well-formed unknown key (looked up) and a malformed one (refused on shape) both count
    const badKeys = [generateKey().secret, `luci_${'x'.repeat(38)}`];
    for (let attempt = 0; attempt < 5; attempt++) {
      const response = await instances[attempt % instances.length].http
        .get('/v1/organization')
        .set('X-Forwarded-For', ip)
        .set(bearer(badKeys[attempt % 2]));
      expectEnvelope(response, 401, 'INVALID_API_KEY');
    }
    const braked = await target.http.get('/v1/organization').set('X-Forwarded-For', ip).set(bearer(badKeys[0]));
    expectEnvelope(braked, 429, 'RATE_LIMITED');
    const seconds = expectRateLimited(braked);
    expect(seconds).toBeLessThanOrEqual(60);

    const valid = await target.http.get('/v1/organization').set('X-Forwarded-For', ip).set(bearer(key));
    expect(valid.status).toBe(200);
    // another client is not braked by this one's failures
    const elsewhere = await target.http.get('/v1/organization').set('X-Forwarded-For', freshClientIp()).set(bearer(badKeys[0]));
    expectEnvelope(elsewhere, 401, 'INVALID_API_KEY');
  });
});

function expectExactlyOneHundred(outcomes: Timed[]): void {
  const statuses = outcomes.map(({ response }) => response.status);
  expect({
    accepted: statuses.filter((status) => status === 200).length,
    rejected: statuses.filter((status) => status === 429).length,
  }).toEqual({ accepted: 100, rejected: 200 });
  for (const { response, receivedAt } of outcomes.filter((o) => o.response.status === 429)) {
    expectRateLimited(response);
    expect(expectRateLimitHeaders(response, receivedAt)).toMatchObject({ limit: 100, remaining: 0 });
  }
  // every accepted request saw a different count: Remaining 99…0, each exactly once
  const remaining = outcomes
    .filter((o) => o.response.status === 200)
    .map(({ response, receivedAt }) => expectRateLimitHeaders(response, receivedAt).remaining);
  expect(remaining.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, index) => index));
}

const shared = sharedBackend();

(shared ? describe : describe.skip)('one Redis round trip per authenticated request', () => {
  let target: TestApp;
  let proxy: RedisCommandProxy;
  let observer: Redis;

  beforeAll(async () => {
    const redisUrl = new URL(shared!.redisUrl!);
    proxy = new RedisCommandProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
    await proxy.start();
    observer = new Redis(shared!.redisUrl!);
    // no usage flush during the measurement (it would RENAME/HGETALL/DEL in the background)
    target = await startApp(
      { ...shared!, redisUrl: proxy.url(shared!.redisUrl!) },
      { rateLimit: { max: 10_000, windowSeconds: 60 }, usageFlushIntervalMs: 600_000 },
    );
  });
  afterAll(async () => {
    await target?.close();
    observer?.disconnect();
    await proxy?.stop();
  });

  it('sends exactly one EVALSHA per warm request (INFO commandstats and the wire agree)', async () => {
    const { key } = await seedOrganization(target);
    const get = () => target.http.get('/v1/organization').set(bearer(key));
    for (let index = 0; index < 5; index++) expect((await get()).status).toBe(200);

    const requests = 200;
    // Commands a Lua script runs are counted in commandstats too: on the accepted path the admission
    // script runs each of these once. Anything beyond them, or more of them, is another call.
    const inScript = ['time', 'hget', 'hmget', 'zremrangebyscore', 'zcard', 'zadd', 'pexpire', 'zrange', 'hincrby', 'hset'];
    let wire: string[] = [];
    let deltas: Record<string, number> = {};
    // commandstats are server-wide: if someone else used this Redis meanwhile, measure again
    for (let attempt = 0; attempt < 3; attempt++) {
      proxy.take();
      const before = await commandCalls(observer);
      for (let index = 0; index < requests; index++) expect((await get()).status).toBe(200);
      const after = await commandCalls(observer);
      wire = proxy.take();
      deltas = callDeltas(before, after);
      delete deltas.info; // the observer's own INFO
      const expected = Object.fromEntries([['evalsha', requests], ...inScript.map((name) => [name, requests])]);
      if (JSON.stringify(sortKeys(deltas)) === JSON.stringify(sortKeys(expected))) break;
    }
    const sent = (deltas.evalsha ?? 0) + (deltas.eval ?? 0);
    const others = Object.entries(deltas).filter(([name]) => !['evalsha', 'eval', ...inScript].includes(name));
    process.stdout.write(
      `\nRedis per authenticated request: ${sent / requests} client call(s) (evalsha ${deltas.evalsha ?? 0}, eval ${deltas.eval ?? 0} over ${requests} requests); ` +
        `on the wire ${wire.length / requests} command(s)/request (${[...new Set(wire)].join(', ')}); in-script commands/request: ${inScript
          .map((name) => `${name} ${(deltas[name] ?? 0) / requests}`)
          .join(', ')}; other commands: ${others.length ? JSON.stringify(Object.fromEntries(others)) : 'none'}\n`,
    );
    // on the wire (this instance's connections only, pub/sub included): one EVALSHA per request, nothing else
    expect({ commands: wire.length, names: [...new Set(wire)] }).toEqual({ commands: requests, names: ['evalsha'] });
    // server-wide (other clients of this Redis may add to it, so at least): every request ran the script
    expect(sent).toBeGreaterThanOrEqual(requests);
    for (const name of inScript) expect(deltas[name] ?? 0).toBeGreaterThanOrEqual(requests);
  });

  it('keeps serving after SCRIPT FLUSH (a Redis restart loses scripts): NOSCRIPT → EVAL, then EVALSHA again', async () => {
    const { key } = await seedOrganization(target);
    const get = () => target.http.get('/v1/organization').set(bearer(key));
    expect((await get()).status).toBe(200);

    await observer.script('FLUSH');
    proxy.take();
    const first = await get();
    expect(first.status).toBe(200);
    expect(expectRateLimitHeaders(first).remaining).toBe(9_998);
    expect(proxy.take()).toEqual(['evalsha', 'eval']);

    expect((await get()).status).toBe(200);
    expect(proxy.take()).toEqual(['evalsha']);
  });
});

(shared ? describe : describe.skip)('Redis outage: fail closed with 503, recover by itself', () => {
  let target: TestApp;
  let redis: TcpProxy;

  beforeAll(async () => {
    const redisUrl = new URL(shared!.redisUrl!);
    redis = new TcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
    await redis.start();
    // client IP from X-Forwarded-For, so the revoked key's failures have a brake bucket of their own
    target = await startApp({ ...shared!, redisUrl: redis.url(shared!.redisUrl!) }, { trustProxy: true });
  });
  afterAll(async () => {
    await target?.close();
    await redis?.stop();
  });

  it('answers 503 SERVICE_UNAVAILABLE (never 500, never a revoked key) while Redis is away, and 200 again soon after', async () => {
    const organization = await seedOrganization(target);
    // a limit high enough that the traffic below is never rate limited
    const live = await issueKey(target, organization.id, { max: 100_000, windowSeconds: 60 });
    const revoked = await issueKey(target, organization.id);
    expect((await target.http.get('/v1/organization').set(bearer(revoked.key))).status).toBe(200);
    expect((await target.http.delete(`/v1/api-keys/${revoked.keyId}`).set(bearer(organization.key))).status).toBe(200);

    interface Outcome { at: number; status: number; code?: string; revokedKey: boolean; response: request.Response }
    const outcomes: Outcome[] = [];
    let running = true;
    const ip = freshClientIp();
    const loop = async (secret: string, revokedKey: boolean) => {
      while (running) {
        const response = await target.http.get('/v1/organization').set('X-Forwarded-For', ip).set(bearer(secret));
        outcomes.push({ at: Date.now(), status: response.status, code: response.body?.error?.code, revokedKey, response });
        await sleep(revokedKey ? 50 : 10);
      }
    };
    const loops = [loop(live.key, false), loop(live.key, false), loop(live.key, false), loop(revoked.key, true)];

    await sleep(300);
    const stoppedAt = Date.now();
    await redis.stop();
    await sleep(1500);
    const restartedAt = Date.now();
    await redis.start();
    let recoveredAt = 0;
    const deadline = restartedAt + 10_000;
    while (!recoveredAt && Date.now() < deadline) {
      recoveredAt = outcomes.find((o) => !o.revokedKey && o.at > restartedAt && o.status === 200)?.at ?? 0;
      await sleep(20);
    }
    await sleep(300);
    running = false;
    await Promise.all(loops);

    const recoverySeconds = (recoveredAt - restartedAt) / 1000;
    process.stdout.write(`\nRedis outage: first 200 ${recoverySeconds.toFixed(3)} s after Redis came back (outage ${((restartedAt - stoppedAt) / 1000).toFixed(1)} s)\n`);

    const valid = outcomes.filter((o) => !o.revokedKey);
    const down = valid.filter((o) => o.at > stoppedAt + 100 && o.at < restartedAt);
    expect(valid.filter((o) => o.at < stoppedAt).every((o) => o.status === 200)).toBe(true);
    expect(down.length).toBeGreaterThan(5);
    for (const outcome of down) expectEnvelope(outcome.response, 503, 'SERVICE_UNAVAILABLE');
    // never a 500, whatever the moment; only 200 or 503 for the live key
    expect([...new Set(valid.map((o) => o.status))].sort()).toEqual([200, 503]);
    // the revoked key is refused before, during and after the outage
    const revokedStatuses = new Set(outcomes.filter((o) => o.revokedKey).map((o) => o.status));
    expect(revokedStatuses.has(200)).toBe(false);
    expect([...revokedStatuses].every((status) => status === 401 || status === 503)).toBe(true);
    // recovered by itself, within a few seconds
    expect(recoveredAt).toBeGreaterThan(0);
    expect(recoverySeconds).toBeLessThan(5);
    // and stays recovered
    expect(valid.filter((o) => o.at > recoveredAt).every((o) => o.status === 200)).toBe(true);
  });
});

function sortKeys(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
