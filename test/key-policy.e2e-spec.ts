import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type request from 'supertest';
import { ApiKeysService } from '../src/api-keys/api-keys.service';
import type { Actor } from '../src/auth/principal';
import { PrismaService } from '../src/database/prisma.service';
import { AppError } from '../src/errors/app-error';
import { StytchFixture, hideStytchBaseUrlWarning } from './support/stytch-fixture';
import { Backend, SeededOrganization, TestApp, backends, bearer, expectEnvelope, seedOrganization, startApp } from './support/test-app';
import { waitFor } from './support/waiting';

/**
 * What a caller may ask of a key (CONTRACT §5, §7): its own rate limit only stricter than the
 * platform's (an operator may set any), a bounded number of active keys per organization, and no
 * key-made key that outlives its creator. Over HTTP, on both backends; on PostgreSQL + Redis with
 * a second instance sharing them.
 */

/** The platform limit of these apps: the contract's defaults. */
const PLATFORM = { max: 100, windowSeconds: 60 };
const MAX_KEYS = 4;
const OPERATOR: Actor = { type: 'system', id: 'admin-cli' };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

beforeAll(hideStytchBaseUrlWarning);

describe.each(backends({ cluster: true }))('key policy on $name', (backend: Backend) => {
  let fixture: StytchFixture;
  let target: TestApp;
  /** A second instance on the same PostgreSQL and Redis (shared backend only). */
  let second: TestApp | undefined;
  let instances: TestApp[];

  beforeAll(async () => {
    fixture = await StytchFixture.start();
    const config = { rateLimit: PLATFORM, maxActiveKeysPerOrganization: MAX_KEYS, stytch: fixture.config, usageFlushIntervalMs: 600_000 };
    target = await startApp(backend, config);
    if (backend.shared) second = await startApp(backend, config);
    instances = second ? [target, second] : [target];
  });
  afterAll(async () => {
    await second?.close();
    await target?.close();
    await fixture?.close();
  });

  const get = (path: string, secret: string, on: TestApp = target) => on.http.get(path).set(bearer(secret));
  const post = (path: string, secret: string, body: Record<string, unknown> = {}, on: TestApp = target) =>
    on.http.post(path).set(bearer(secret)).send(body);
  async function createKey(secret: string, body: Record<string, unknown> = {}, on: TestApp = target) {
    const response = await post('/v1/api-keys', secret, { name: 'policy test', ...body }, on);
    expect({ status: response.status, error: response.body.error }).toEqual({ status: 201, error: undefined });
    return response.body as { id: string; key: string; expires_at: string | null };
  }
  const limitOf = (response: request.Response) => ({
    status: response.status,
    limit: Number(response.headers['x-ratelimit-limit']),
    policy: response.headers['ratelimit-policy'],
  });
  const fieldsOf = (error: Record<string, unknown>) => (error.details as { field: string; message: string }[]);
  async function keyIds(org: SeededOrganization): Promise<string[]> {
    const response = await get('/v1/api-keys?limit=100', org.key);
    return response.body.data.map((key: { id: string }) => key.id).sort();
  }
  async function activeKeys(organizationId: string): Promise<number> {
    const now = new Date();
    return target.app.get(PrismaService).apiKey.count({
      where: {
        organizationId,
        AND: [{ OR: [{ revokedAt: null }, { revokedAt: { gt: now } }] }, { OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] }],
      },
    });
  }
  /** A member of a Stytch organization the app has not seen, with the role that manages keys. */
  async function keyManagingMember() {
    const organizationId = `organization-test-${randomUUID()}`;
    const memberId = `member-test-${randomUUID()}`;
    const token = await fixture.mint({ memberId, organizationId, slug: `acme-${memberId.slice(-8)}`, roles: ['stytch_member', 'stytch_admin'] });
    return token;
  }

  describe('a key’s own rate limit', () => {
    it('refuses one looser than the platform’s from a key or a member: 400 on rate_limit, naming the limit and the rule; nothing is created', async () => {
      const org = await seedOrganization(target);
      const member = await keyManagingMember();
      const looser = [
        { max: 1_000_000, window_seconds: 1 }, // the reported bypass
        { max: 101, window_seconds: 60 },
        { max: 51, window_seconds: 30 }, // 2 windows in a minute: 102
        { max: 2, window_seconds: 1 }, // 120 a minute
        { max: 101, window_seconds: 3600 }, // a longer window still admits all of it within one minute
        { max: 26, window_seconds: 17 }, // ⌈60 / 17⌉ = 4 windows: 104
      ];
      for (const [who, secret] of [['key', org.key], ['member', member]]) {
        for (const rate_limit of looser) {
          const error = expectEnvelope(await post('/v1/api-keys', secret, { name: 'unlimited', rate_limit }), 400, 'VALIDATION_FAILED');
          expect({ who, rate_limit, fields: fieldsOf(error).map((detail) => detail.field) }).toEqual({ who, rate_limit, fields: ['rate_limit'] });
          const message = fieldsOf(error)[0].message;
          expect(message).toContain('platform limit of 100 requests per 60 seconds');
          expect(message).toContain('max × ⌈60 / window_seconds⌉ must be at most 100');
          expect(message).toContain('operator');
        }
      }
      expect(await keyIds(org)).toEqual([org.keyId]);
      expect((await get('/v1/api-keys', member)).body.data).toEqual([]);
    });

    it('accepts one that is as strict or stricter, and applies it', async () => {
      const org = await seedOrganization(target);
      // each admits at most 100 in any minute: 100 × 1, 50 × 2, 25 × ⌈60/17⌉ = 25 × 4
      for (const rate_limit of [{ max: 100, window_seconds: 60 }, { max: 50, window_seconds: 30 }, { max: 25, window_seconds: 17 }]) {
        const created = await createKey(org.key, { rate_limit });
        expect(created).toMatchObject({ rate_limit });
        const used = await get('/v1/organization', created.key);
        expect(limitOf(used)).toEqual({ status: 200, limit: rate_limit.max, policy: `"default";q=${rate_limit.max};w=${rate_limit.window_seconds}` });
      }
    });

    it('lets an operator set any limit, or clear it, with effect from the key’s next request on every instance', async () => {
      const org = await seedOrganization(target);
      // every instance has the key's record in its cache, with the default limit
      for (const on of instances) expect(limitOf(await get('/v1/organization', org.key, on))).toMatchObject({ status: 200, limit: 100 });
      const keys = target.app.get(ApiKeysService);

      // looser than the platform's: the operator may
      const loose = await keys.setRateLimit(org.keyId, { max: 1000, windowSeconds: 10 }, OPERATOR);
      expect(loose).toMatchObject({ id: org.keyId, rateLimitMax: 1000, rateLimitWindowSeconds: 10 });
      for (const on of instances) {
        expect(limitOf(await get('/v1/organization', org.key, on))).toEqual({ status: 200, limit: 1000, policy: '"default";q=1000;w=10' });
      }
      expect((await get(`/v1/api-keys/${org.keyId}`, org.key)).body.rate_limit).toEqual({ max: 1000, window_seconds: 10 });

      // stricter than what the key has already used: refused at once, everywhere
      await keys.setRateLimit(org.keyId, { max: 2, windowSeconds: 60 }, OPERATOR);
      for (const on of instances) {
        const refused = await get('/v1/organization', org.key, on);
        expectEnvelope(refused, 429, 'RATE_LIMITED');
        expect(limitOf(refused)).toEqual({ status: 429, limit: 2, policy: '"default";q=2;w=60' });
      }

      // cleared: back to the platform's limit (the requests it accepted still count)
      const cleared = await keys.setRateLimit(org.keyId, null, OPERATOR);
      expect(cleared).toMatchObject({ rateLimitMax: null, rateLimitWindowSeconds: null });
      for (const on of instances) expect(limitOf(await get('/v1/organization', org.key, on))).toEqual({ status: 200, limit: 100, policy: '"default";q=100;w=60' });
      expect((await get(`/v1/api-keys/${org.keyId}`, org.key)).body.rate_limit).toBeNull();

      const events = await target.app.get(PrismaService).auditEvent.findMany({
        where: { targetId: org.keyId, type: 'api_key.rate_limit_changed' },
        orderBy: { id: 'asc' },
      });
      expect(events.map((event) => ({ actor: [event.actorType, event.actorId], data: event.data }))).toEqual([
        { actor: ['system', 'admin-cli'], data: { max: 1000, window_seconds: 10 } },
        { actor: ['system', 'admin-cli'], data: { max: 2, window_seconds: 60 } },
        { actor: ['system', 'admin-cli'], data: { max: null, window_seconds: null } },
      ]);
    });

    it('keeps an operator’s limit through a rotation, on the old key during its grace period and on the new one', async () => {
      const org = await seedOrganization(target);
      const old = await createKey(org.key);
      await target.app.get(ApiKeysService).setRateLimit(old.id, { max: 500, windowSeconds: 60 }, OPERATOR);
      const rotated = await post(`/v1/api-keys/${old.id}/rotate`, org.key, { grace_period_seconds: 60 });
      expect(rotated.status).toBe(201);
      expect(rotated.body.rate_limit).toEqual({ max: 500, window_seconds: 60 });
      for (const on of instances) {
        expect(limitOf(await get('/v1/organization', old.key, on))).toMatchObject({ status: 200, limit: 500 });
        expect(limitOf(await get('/v1/organization', rotated.body.key, on))).toMatchObject({ status: 200, limit: 500 });
      }
    });

    it('refuses an operator’s change on a revoked key (409), an unknown or malformed id (404), a limit out of bounds (400)', async () => {
      const org = await seedOrganization(target);
      const keys = target.app.get(ApiKeysService);
      const revoked = await createKey(org.key);
      await target.http.delete(`/v1/api-keys/${revoked.id}`).set(bearer(org.key)).expect(200);
      const cases: [string, { max: number; windowSeconds: number } | null, string][] = [
        [revoked.id, { max: 5, windowSeconds: 60 }, 'CONFLICT'],
        [revoked.id, null, 'CONFLICT'],
        [`key_${'0'.repeat(28)}`, { max: 5, windowSeconds: 60 }, 'NOT_FOUND'],
        ['not-a-key', null, 'NOT_FOUND'],
        [org.keyId, { max: 0, windowSeconds: 60 }, 'VALIDATION_FAILED'],
        [org.keyId, { max: 5, windowSeconds: 86_401 }, 'VALIDATION_FAILED'],
        [org.keyId, { max: 2.5, windowSeconds: 60 }, 'VALIDATION_FAILED'],
      ];
      for (const [id, limit, code] of cases) {
        const error = await keys.setRateLimit(id, limit, OPERATOR).then(() => undefined, (caught: unknown) => caught);
        expect({ id, limit, code: (error as AppError | undefined)?.code }).toEqual({ id, limit, code });
      }
      const rows = await target.app.get(PrismaService).apiKey.findMany({ where: { organizationId: org.id }, orderBy: { id: 'asc' } });
      expect(rows.map((row) => [row.rateLimitMax, row.rateLimitWindowSeconds])).toEqual([[null, null], [null, null]]);
      expect(await target.app.get(PrismaService).auditEvent.count({ where: { organizationId: org.id, type: 'api_key.rate_limit_changed' } })).toBe(0);
    });

    if (backend.redisUrl) it('completes a key’s store state written before keys carried their limit there', async () => {
      const org = await seedOrganization(target);
      const limited = await createKey(org.key, { rate_limit: { max: 7, window_seconds: 60 } });
      const redis = new Redis(backend.redisUrl!);
      try {
        // the state an earlier version wrote: revocation and expiry only
        await redis.del(`lv:k:${limited.id}`);
        await redis.hset(`lv:k:${limited.id}`, 'rv', '0', 'ex', '0');
        expect(limitOf(await get('/v1/organization', limited.key))).toMatchObject({ status: 200, limit: 7 });
        expect(await redis.hmget(`lv:k:${limited.id}`, 'rv', 'lm', 'lw')).toEqual(['0', '7', '60000']);
        // the seed fills in only what is missing: a field the store has (here a scheduled revocation) stays
        const stopsAt = String(Date.now() + 3_600_000);
        await redis.hdel(`lv:k:${limited.id}`, 'lm', 'lw');
        await redis.hset(`lv:k:${limited.id}`, 'rv', stopsAt);
        expect(limitOf(await get('/v1/organization', limited.key, second))).toMatchObject({ status: 200, limit: 7 });
        expect(await redis.hmget(`lv:k:${limited.id}`, 'rv', 'lm', 'lw')).toEqual([stopsAt, '7', '60000']);
      } finally {
        redis.disconnect();
      }
    });
  });

  describe('the number of active keys', () => {
    it(`refuses a key beyond ${MAX_KEYS} active ones with 409, naming the maximum; revoked and expired keys do not count; the admin path too`, async () => {
      const org = await seedOrganization(target);
      const created = [];
      for (let n = 1; n < MAX_KEYS; n++) created.push(await createKey(org.key));
      const refused = expectEnvelope(await post('/v1/api-keys', org.key, { name: 'one too many' }), 409, 'CONFLICT');
      expect(refused.message).toBe(`This organization has 4 active API keys; the maximum is 4. Revoke keys it no longer uses, then try again.`);
      // the admin command line's `key create` goes through the same path
      const admin = await target.app
        .get(ApiKeysService)
        .issue({ organizationId: org.id, name: 'from the command line' }, OPERATOR)
        .then(() => undefined, (caught: unknown) => caught);
      expect((admin as AppError | undefined)?.code).toBe('CONFLICT');
      expect(await keyIds(org)).toHaveLength(MAX_KEYS);

      // a revoked key frees its place
      await target.http.delete(`/v1/api-keys/${created[0].id}`).set(bearer(org.key)).expect(200);
      const shortLived = await createKey(org.key, { expires_at: new Date(Date.now() + 1500).toISOString() });
      expectEnvelope(await post('/v1/api-keys', org.key, { name: 'still too many' }), 409, 'CONFLICT');
      // and so does an expired one
      await waitFor('the short-lived key to expire', async () => (await get('/v1/organization', shortLived.key)).status === 401, 5000, 100);
      await createKey(org.key, { name: 'after the expiry' });
      expect(await activeKeys(org.id)).toBe(MAX_KEYS);
    });

    it('lets exactly the free places through when creates race, on one instance or several', async () => {
      const org = await seedOrganization(target);
      const responses = await Promise.all(
        Array.from({ length: 12 }, (_, n) => post('/v1/api-keys', org.key, { name: `racer ${n}` }, instances[n % instances.length])),
      );
      const statuses = responses.map((response) => response.status).sort();
      expect(statuses).toEqual([...Array(MAX_KEYS - 1).fill(201), ...Array(12 - (MAX_KEYS - 1)).fill(409)]);
      for (const response of responses.filter((r) => r.status === 409)) expectEnvelope(response, 409, 'CONFLICT');
      expect(await activeKeys(org.id)).toBe(MAX_KEYS);
    });

    it('lets a rotation replace a key at the maximum, one over during its grace period; a second grace period over it is refused', async () => {
      const org = await seedOrganization(target);
      const [a, b, c] = [await createKey(org.key), await createKey(org.key), await createKey(org.key)];
      expect(await activeKeys(org.id)).toBe(MAX_KEYS);

      // at the maximum: the rotation replaces A, both work during the grace period
      const rotatedA = await post(`/v1/api-keys/${a.id}/rotate`, org.key, { grace_period_seconds: 60 });
      expect(rotatedA.status).toBe(201);
      expect(await activeKeys(org.id)).toBe(MAX_KEYS + 1);
      expect((await get('/v1/organization', a.key)).status).toBe(200);

      // over it: another grace period (for B, or for A again) is refused, and nothing changes
      for (const id of [b.id, a.id, rotatedA.body.id]) {
        const refused = expectEnvelope(await post(`/v1/api-keys/${id}/rotate`, org.key, { grace_period_seconds: 60 }), 409, 'CONFLICT');
        expect(refused.message).toContain('grace_period_seconds 0');
      }
      expect((await get(`/v1/api-keys/${b.id}`, org.key)).body.revoked_at).toBeNull();
      expectEnvelope(await post('/v1/api-keys', org.key, { name: 'over' }), 409, 'CONFLICT');
      // a rotation without grace leaves the count as it was: allowed
      const rotatedB = await post(`/v1/api-keys/${b.id}/rotate`, org.key, { grace_period_seconds: 0 });
      expect(rotatedB.status).toBe(201);
      expect(await activeKeys(org.id)).toBe(MAX_KEYS + 1);

      // once the grace period is cut short (A revoked), rotations with grace are allowed again
      await target.http.delete(`/v1/api-keys/${a.id}`).set(bearer(org.key)).expect(200);
      expect((await post(`/v1/api-keys/${c.id}/rotate`, org.key, { grace_period_seconds: 60 })).status).toBe(201);
      expect(await activeKeys(org.id)).toBe(MAX_KEYS + 1);
    });
  });

  describe('the lifetime of a key made by a key', () => {
    it('refuses a key that would outlive its creator (never expiring, or later): 400 on expires_at with the creator’s expiry', async () => {
      const org = await seedOrganization(target);
      // the report: a key a few seconds from expiry minted one that never expires
      const creator = await createKey(org.key, { expires_at: new Date(Date.now() + 30_000).toISOString() });
      const until = creator.expires_at!;
      for (const body of [{}, { expires_at: null }, { expires_at: new Date(Date.parse(until) + 1).toISOString() }, { expires_at: '9999-12-31T23:59:59.999Z' }]) {
        const error = expectEnvelope(await post('/v1/api-keys', creator.key, { name: 'immortal', ...body }), 400, 'VALIDATION_FAILED');
        expect({ body, details: fieldsOf(error) }).toEqual({
          body,
          details: [{ field: 'expires_at', message: `This API key expires at ${until}, and a key cannot create a key that outlives it: expires_at is required and must be no later than ${until}.` }],
        });
      }
      // both rules at once: both reported
      const both = expectEnvelope(await post('/v1/api-keys', creator.key, { name: 'x', rate_limit: { max: 1_000_000, window_seconds: 1 } }), 400, 'VALIDATION_FAILED');
      expect(fieldsOf(both).map((detail) => detail.field)).toEqual(['rate_limit', 'expires_at']);
      expect(await keyIds(org)).toEqual([org.keyId, creator.id].sort());

      // up to its own expiry is fine
      expect((await createKey(creator.key, { expires_at: until })).expires_at).toBe(until);
      const earlier = new Date(Date.parse(until) - 10_000).toISOString();
      expect((await createKey(creator.key, { expires_at: earlier })).expires_at).toBe(earlier);
    });

    it('leaves keys made by members, and by keys that never expire, unbounded', async () => {
      const member = await keyManagingMember();
      expect((await createKey(member, { name: 'from the dashboard' })).expires_at).toBeNull();
      const org = await seedOrganization(target);
      expect((await createKey(org.key)).expires_at).toBeNull();
    });

    it('lets an expiring key rotate itself and keys that expire no later, but not a key the rotation would make outlive it (403)', async () => {
      const org = await seedOrganization(target);
      const until = new Date(Date.now() + 60_000).toISOString();
      const creator = await createKey(org.key, { expires_at: until });

      // the organization's key never expires: its replacement would outlive the caller
      const refused = expectEnvelope(await post(`/v1/api-keys/${org.keyId}/rotate`, creator.key), 403, 'FORBIDDEN');
      expect(refused.message).toContain(until);
      const later = await createKey(org.key, { expires_at: new Date(Date.parse(until) + 1000).toISOString() });
      expectEnvelope(await post(`/v1/api-keys/${later.id}/rotate`, creator.key, { grace_period_seconds: 0 }), 403, 'FORBIDDEN');
      // nothing changed: the keys are not revoked, no key was added
      expect((await get(`/v1/api-keys/${org.keyId}`, org.key)).body.revoked_at).toBeNull();
      expect((await get('/v1/organization', org.key)).status).toBe(200);
      expect(await keyIds(org)).toEqual([org.keyId, creator.id, later.id].sort());

      // a key expiring earlier may be rotated: its replacement keeps that expiry
      const earlier = new Date(Date.parse(until) - 30_000).toISOString();
      const shorter = await createKey(org.key, { expires_at: earlier });
      const rotatedShorter = await post(`/v1/api-keys/${shorter.id}/rotate`, creator.key);
      expect({ status: rotatedShorter.status, expires_at: rotatedShorter.body.expires_at }).toEqual({ status: 201, expires_at: earlier });

      // and itself: the new key expires when it would have
      const rotatedSelf = await post(`/v1/api-keys/${creator.id}/rotate`, creator.key);
      expect({ status: rotatedSelf.status, expires_at: rotatedSelf.body.expires_at }).toEqual({ status: 201, expires_at: until });
      expect(rotatedSelf.body.expires_at).toMatch(ISO);
    });
  });
});
