import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import type request from 'supertest';
import { generateKey } from '../src/api-keys/key-format';
import { UsageFlusher } from '../src/api-keys/usage/usage-flusher';
import { UsageRepository } from '../src/api-keys/usage/usage.repository';
import { AppConfig } from '../src/config/app-config';
import { PrismaService } from '../src/database/prisma.service';
import { AdmissionStore } from '../src/store/admission-store';
import { usageNamespace } from '../src/store/usage-namespace';
import { DatabaseBlocker } from './support/database-blocker';
import { QueryCounter, startQueryCounter } from './support/query-counter';
import { TcpProxy } from './support/tcp-proxy';
import {
  Backend, SeededOrganization, TestApp, backends, bearer, expectEnvelope, seedOrganization, sharedBackend, startApp,
} from './support/test-app';
import { Gate, sleep, waitFor } from './support/waiting';

/**
 * API keys end to end (issue 3, CONTRACT §2, §4, §7): over HTTP against the real app, on
 * PostgreSQL + Redis (with two instances sharing them) and on the embedded defaults.
 */

/** Quiet by default: no background usage flush (tests flush when they mean to), no brute-force brake. */
const QUIET: Partial<AppConfig> = { usageFlushIntervalMs: 600_000, authFailureMax: 1_000_000 };

/** The key object of CONTRACT §7, plus `rate_limit` (the per-key override of issue 4). */
const KEY_OBJECT_FIELDS = [
  'created_at', 'created_by', 'environment', 'expires_at', 'id', 'last_used_at', 'name', 'object', 'rate_limit', 'revoked_at', 'start',
];
const KEY_ID = /^key_[0-9a-f]{28}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const SECRET = /^luci_[A-Za-z0-9]{32,}$/;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const unknownKeyId = () => `key_${Date.now().toString(16).padStart(12, '0')}${randomBytes(8).toString('hex')}`;

/** Every way a secret could show up in text: whole, without its prefix, and its stored hash. */
function traces(secret: string): string[] {
  return [secret, secret.slice('luci_'.length), sha256(secret)];
}

function expectNoSecret(text: string, secrets: string[]): void {
  for (const secret of secrets) {
    for (const trace of traces(secret)) expect(text.includes(trace) ? `${trace} found` : 'absent').toBe('absent');
  }
}

function expectKeyObject(body: Record<string, unknown>): void {
  expect(Object.keys(body).filter((field) => field !== 'key').sort()).toEqual(KEY_OBJECT_FIELDS);
  expect(body).toMatchObject({ id: expect.stringMatching(KEY_ID), object: 'api_key', created_at: expect.stringMatching(ISO) });
  expect(body.start).toMatch(/^luci_[A-Za-z0-9]{4}$/);
}

describe.each(backends({ cluster: true }))('API keys on $name', (backend: Backend) => {
  let counter: QueryCounter;
  let target: TestApp;
  let org: SeededOrganization;
  /** Every secret this describe creates: none may be found in the database or the logs. */
  const secrets: string[] = [];

  const get = (path: string, secret: string) => target.http.get(path).set(bearer(secret));
  async function createKey(secret: string, body: Record<string, unknown> = { name: 'test key' }, on: TestApp = target) {
    const response = await on.http.post('/v1/api-keys').set(bearer(secret)).send(body);
    expect(response.status).toBe(201);
    secrets.push(response.body.key);
    return response.body as Record<string, unknown> & { id: string; key: string };
  }
  async function newOrganization(on: TestApp = target): Promise<SeededOrganization> {
    const seeded = await seedOrganization(on);
    secrets.push(seeded.key);
    return seeded;
  }

  beforeAll(async () => {
    counter = await startQueryCounter(backend);
    target = await startApp(counter.backend, { ...QUIET, rateLimit: { max: 10_000, windowSeconds: 60 } });
    org = await newOrganization();
  });
  afterAll(async () => {
    await target?.close();
    await counter?.close();
  });

  it('creates a key: 201 with the secret shown once and the key object of the contract; the key then works', async () => {
    const before = Date.now();
    const response = await target.http.post('/v1/api-keys').set(bearer(org.key)).send({ name: 'CI pipeline', environment: 'staging' });
    expect(response.status).toBe(201);
    const created = response.body;
    secrets.push(created.key);
    expectKeyObject(created);
    expect(created.key).toMatch(SECRET);
    expect(created).toMatchObject({
      name: 'CI pipeline',
      environment: 'staging',
      start: created.key.slice(0, 9),
      last_used_at: null,
      expires_at: null,
      revoked_at: null,
      created_by: { type: 'api_key', id: org.keyId },
    });
    expect(Date.parse(created.created_at)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(created.created_at)).toBeLessThanOrEqual(Date.now() + 1000);

    const used = await get('/v1/organization', created.key);
    expect(used.status).toBe(200);
    expect(used.body).toMatchObject({ id: org.id, tier: 'free' });

    // shown once: reading the key again never gives the secret back
    const read = await get(`/v1/api-keys/${created.id}`, org.key);
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ ...created, key: undefined, last_used_at: null });
    expect('key' in read.body).toBe(false);
  });

  it('defaults the environment to production and accepts each environment; refuses others with 400', async () => {
    expect((await createKey(org.key, { name: 'default env' })).environment).toBe('production');
    for (const environment of ['development', 'staging', 'production']) {
      expect((await createKey(org.key, { name: environment, environment })).environment).toBe(environment);
    }
    const bad: [Record<string, unknown>, string][] = [
      [{ name: 'x', environment: 'prod' }, 'environment'],
      [{ name: 'x', environment: 'PRODUCTION' }, 'environment'],
      [{ name: 'x', environment: 1 }, 'environment'],
      [{ name: '' }, 'name'],
      [{}, 'name'],
      [{ name: 'x'.repeat(101) }, 'name'],
      // PostgreSQL cannot store NUL: refused here, not a 500 from the database
      [{ name: 'nul\u0000byte' }, 'name'],
      [{ name: 'line\nbreak' }, 'name'],
    ];
    for (const [body, field] of bad) {
      const error = expectEnvelope(await target.http.post('/v1/api-keys').set(bearer(org.key)).send(body), 400, 'VALIDATION_FAILED');
      const fields = new Set((error.details as { field: string }[]).map((detail) => detail.field));
      expect({ body, fields: [...fields] }).toEqual({ body, fields: [field] });
    }
  });

  it('never shows a secret or its hash in a list or a key object', async () => {
    const mine = await newOrganization();
    const created = await Promise.all([1, 2, 3].map((n) => createKey(mine.key, { name: `k${n}` })));
    const list = await get('/v1/api-keys', mine.key);
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(4);
    for (const item of list.body.data) expectKeyObject(item);
    const reads = await Promise.all(created.map((key) => get(`/v1/api-keys/${key.id}`, mine.key)));
    const text = JSON.stringify([list.body, ...reads.map((read) => read.body)]);
    expectNoSecret(text, [mine.key, ...created.map((key) => key.key)]);
    // the list carries what is needed to recognise each key
    expect(list.body.data.map((item: { start: string }) => item.start).sort()).toEqual(
      [mine.key, ...created.map((key) => key.key)].map((secret) => secret.slice(0, 9)).sort(),
    );
  });

  it('pages the list with limit and next_cursor: newest first, no overlap, no gap', async () => {
    const mine = await newOrganization();
    const ids = [mine.keyId];
    for (let n = 0; n < 6; n++) ids.push((await createKey(mine.key, { name: `page ${n}` })).id);
    const newestFirst = [...ids].sort().reverse();

    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const response: request.Response = await get(`/v1/api-keys?limit=3${cursor ? `&cursor=${cursor}` : ''}`, mine.key);
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(['data', 'next_cursor']);
      sizes.push(response.body.data.length);
      seen.push(...response.body.data.map((item: { id: string }) => item.id));
      cursor = response.body.next_cursor;
    } while (cursor && sizes.length < 10);
    expect(sizes).toEqual([3, 3, 1]);
    expect(seen).toEqual(newestFirst);

    const whole = await get('/v1/api-keys', mine.key);
    expect(whole.body.data.map((item: { id: string }) => item.id)).toEqual(newestFirst);
    expect(whole.body.next_cursor).toBeNull();
    // a page that ends exactly at the last key says there is no next page
    const exact = await get('/v1/api-keys?limit=7', mine.key);
    expect([exact.body.data.length, exact.body.next_cursor]).toEqual([7, null]);
    const almost = await get('/v1/api-keys?limit=6', mine.key);
    expect(almost.body.next_cursor).toBe(newestFirst[5]);
  });

  it('refuses a bad limit or cursor with 400 VALIDATION_FAILED naming the field', async () => {
    const cases: [string, string][] = [
      ['limit=0', 'limit'], ['limit=101', 'limit'], ['limit=-1', 'limit'], ['limit=1.5', 'limit'], ['limit=abc', 'limit'],
      ['limit=', 'limit'], ['limit=3&limit=4', 'limit'], ['cursor=abc', 'cursor'], ['cursor=key_123', 'cursor'],
      [`cursor=${org.keyId.toUpperCase()}`, 'cursor'], [`cursor=${org.keyId}%27%20OR%201%3D1`, 'cursor'], ['colour=red', 'colour'],
    ];
    for (const [query, field] of cases) {
      const response = await get(`/v1/api-keys?${query}`, org.key);
      const error = expectEnvelope(response, 400, 'VALIDATION_FAILED');
      const fields = new Set((error.details as { field: string }[]).map((detail) => detail.field));
      expect({ query, fields: [...fields] }).toEqual({ query, fields: [field] });
    }
  });

  it('revokes a key: 200 with revoked_at, the next request is 401 API_KEY_REVOKED, revoking again is harmless', async () => {
    const victim = await createKey(org.key, { name: 'to revoke' });
    expect((await get('/v1/organization', victim.key)).status).toBe(200);

    const revoked = await target.http.delete(`/v1/api-keys/${victim.id}`).set(bearer(org.key));
    expect(revoked.status).toBe(200);
    expectKeyObject(revoked.body);
    expect(revoked.body.revoked_at).toMatch(ISO);
    expect(JSON.stringify(revoked.body)).not.toContain(victim.key);

    const refused = await get('/v1/organization', victim.key);
    expect(expectEnvelope(refused, 401, 'API_KEY_REVOKED').message).toBe('This API key has been revoked.');

    for (let n = 0; n < 2; n++) {
      const again = await target.http.delete(`/v1/api-keys/${victim.id}`).set(bearer(org.key));
      expect(again.status).toBe(200);
      expect(again.body).toEqual(revoked.body);
    }
    expect((await get(`/v1/api-keys/${victim.id}`, org.key)).body.revoked_at).toBe(revoked.body.revoked_at);
    expectEnvelope(await get('/v1/organization', victim.key), 401, 'API_KEY_REVOKED');
  });

  it('lets a key revoke itself: that request is answered, the next one is 401', async () => {
    const self = await createKey(org.key, { name: 'self-revoking' });
    const response = await target.http.delete(`/v1/api-keys/${self.id}`).set(bearer(self.key));
    expect(response.status).toBe(200);
    expect(response.body.revoked_at).toMatch(ISO);
    expectEnvelope(await get('/v1/organization', self.key), 401, 'API_KEY_REVOKED');
  });

  it('rotates without grace: a new key that works, the old one refused at once', async () => {
    const old = await createKey(org.key, { name: 'rotating', environment: 'development' });
    expect((await get('/v1/organization', old.key)).status).toBe(200);

    const response = await target.http.post(`/v1/api-keys/${old.id}/rotate`).set(bearer(org.key)).send({});
    expect(response.status).toBe(201);
    secrets.push(response.body.key);
    expectKeyObject(response.body);
    expect(response.body.key).toMatch(SECRET);
    expect(response.body).toMatchObject({ name: 'rotating', environment: 'development', revoked_at: null, start: response.body.key.slice(0, 9) });
    expect(response.body.id).not.toBe(old.id);

    expectEnvelope(await get('/v1/organization', old.key), 401, 'API_KEY_REVOKED');
    expect((await get('/v1/organization', response.body.key)).status).toBe(200);
    expect((await get(`/v1/api-keys/${old.id}`, org.key)).body.revoked_at).toMatch(ISO);
  });

  it('rotates with a grace period: the old key works until it ends, then 401', async () => {
    const old = await createKey(org.key, { name: 'graceful' });
    const rotatedAt = Date.now();
    const response = await target.http.post(`/v1/api-keys/${old.id}/rotate`).set(bearer(org.key)).send({ grace_period_seconds: 1 });
    expect(response.status).toBe(201);
    secrets.push(response.body.key);

    const oldKey = (await get(`/v1/api-keys/${old.id}`, org.key)).body;
    const stopsAt = Date.parse(oldKey.revoked_at);
    expect(stopsAt).toBeGreaterThanOrEqual(rotatedAt + 1000 - 50);
    expect(stopsAt).toBeLessThanOrEqual(Date.now() + 1000);

    // Poll the old key: accepted strictly before revoked_at, refused from then on.
    let refusal: request.Response | undefined;
    while (!refusal) {
      const sentAt = Date.now();
      const answer = await get('/v1/organization', old.key);
      if (answer.status === 200) expect(sentAt).toBeLessThan(stopsAt + 50);
      else refusal = answer;
      expect((await get('/v1/organization', response.body.key)).status).toBe(200);
      if (!refusal) await sleep(100);
    }
    expect(Date.now()).toBeGreaterThanOrEqual(stopsAt - 50);
    expect(Date.now()).toBeLessThan(stopsAt + 3000);
    expectEnvelope(refusal, 401, 'API_KEY_REVOKED');
    expectEnvelope(await get('/v1/organization', old.key), 401, 'API_KEY_REVOKED');
  });

  it('refuses to rotate a revoked key (409 CONFLICT) and a grace period out of 0–86400 s (400)', async () => {
    const gone = await createKey(org.key, { name: 'revoked then rotated' });
    await target.http.delete(`/v1/api-keys/${gone.id}`).set(bearer(org.key)).expect(200);
    const conflict = await target.http.post(`/v1/api-keys/${gone.id}/rotate`).set(bearer(org.key)).send({});
    expectEnvelope(conflict, 409, 'CONFLICT');

    const live = await createKey(org.key, { name: 'rotated with bad grace' });
    for (const grace of [-1, 86_401, 1.5, '10', true, 1e20, [], {}]) {
      const response = await target.http.post(`/v1/api-keys/${live.id}/rotate`).set(bearer(org.key)).send({ grace_period_seconds: grace });
      expect({ grace, status: response.status, code: response.body.error?.code }).toEqual({ grace, status: 400, code: 'VALIDATION_FAILED' });
    }
    expect((await get(`/v1/api-keys/${live.id}`, org.key)).body.revoked_at).toBeNull();
    // the edges are accepted, and null means "not given" (no grace)
    for (const grace of [0, 86_400, null]) {
      const edge = await createKey(org.key, { name: `grace ${grace}` });
      const response = await target.http.post(`/v1/api-keys/${edge.id}/rotate`).set(bearer(org.key)).send({ grace_period_seconds: grace });
      expect(response.status).toBe(201);
      secrets.push(response.body.key);
    }
  });

  it('expires a key at expires_at: 200 before, 401 API_KEY_EXPIRED after; it cannot be rotated then (409)', async () => {
    const expiresAt = new Date(Date.now() + 1200).toISOString();
    const key = await createKey(org.key, { name: 'short-lived', expires_at: expiresAt });
    expect(key.expires_at).toBe(expiresAt);
    const stopsAt = Date.parse(expiresAt);
    let refusal: request.Response | undefined;
    while (!refusal) {
      const sentAt = Date.now();
      const answer = await get('/v1/organization', key.key);
      if (answer.status === 200) expect(sentAt).toBeLessThan(stopsAt + 50);
      else refusal = answer;
      if (!refusal) await sleep(100);
    }
    expect(Date.now()).toBeGreaterThanOrEqual(stopsAt - 50);
    expect(Date.now()).toBeLessThan(stopsAt + 3000);
    expect(expectEnvelope(refusal, 401, 'API_KEY_EXPIRED').message).toBe('This API key has expired.');
    // an expired key cannot be rotated (the new key would be born expired)
    expectEnvelope(await target.http.post(`/v1/api-keys/${key.id}/rotate`).set(bearer(org.key)).send({}), 409, 'CONFLICT');
    // still listed, with its expiry, and the organization's other keys are unaffected
    expect((await get(`/v1/api-keys/${key.id}`, org.key)).body).toMatchObject({ expires_at: expiresAt, revoked_at: null });
    expect((await get('/v1/organization', org.key)).status).toBe(200);
  });

  it('refuses an expires_at in the past, beyond 9999 or that is not a date-time (400)', async () => {
    const bad = [
      new Date(Date.now() - 60_000).toISOString(), '1970-01-01T00:00:00Z', 'tomorrow', '2030-13-45T00:00:00Z', '', 12, true, [], {},
      '+010000-01-01T00:00:00Z', '+275760-09-13T00:00:00.000Z',
      // numbers are refused, not read as milliseconds (or seconds); loose date forms likewise
      Date.now() + 86_400_000, Math.floor(Date.now() / 1000) + 86_400, 'March 5, 2030',
    ];
    for (const expires_at of bad) {
      const response = await target.http.post('/v1/api-keys').set(bearer(org.key)).send({ name: 'bad expiry', expires_at });
      const error = expectEnvelope(response, 400, 'VALIDATION_FAILED');
      expect({ expires_at, fields: (error.details as { field: string }[]).map((detail) => detail.field) }).toEqual({
        expires_at,
        fields: expect.arrayContaining(['expires_at']),
      });
    }
    // the far edge is accepted
    expect((await createKey(org.key, { name: 'long-lived', expires_at: '9999-12-31T23:59:59.999Z' })).expires_at).toBe('9999-12-31T23:59:59.999Z');
  });

  it('answers another organization’s key exactly like an unknown one (404) on every verb, and changes nothing', async () => {
    const other = await newOrganization();
    const unknown = unknownKeyId();
    const calls: [string, (id: string) => request.Test][] = [
      ['GET', (id) => target.http.get(`/v1/api-keys/${id}`)],
      ['DELETE', (id) => target.http.delete(`/v1/api-keys/${id}`)],
      ['rotate', (id) => target.http.post(`/v1/api-keys/${id}/rotate`).send({})],
      ['usage', (id) => target.http.get(`/v1/api-keys/${id}/usage`)],
    ];
    for (const [verb, call] of calls) {
      const foreign = await call(org.keyId).set(bearer(other.key));
      const missing = await call(unknown).set(bearer(other.key));
      const foreignError = expectEnvelope(foreign, 404, 'NOT_FOUND');
      const missingError = expectEnvelope(missing, 404, 'NOT_FOUND');
      expect({ verb, ...foreignError, request_id: undefined }).toEqual({ verb, ...missingError, request_id: undefined });
      expect(Object.keys(foreign.headers).sort()).toEqual(Object.keys(missing.headers).sort());
    }
    // org A's key is untouched and still works
    expect((await get('/v1/organization', org.key)).body.id).toBe(org.id);
    expect((await get(`/v1/api-keys/${org.keyId}`, org.key)).body.revoked_at).toBeNull();
    const theirs = await get('/v1/api-keys', other.key);
    expect(theirs.body.data.map((item: { id: string }) => item.id)).toEqual([other.keyId]);
  });

  it('answers malformed ids in paths 404, and no statement about them reaches the database', async () => {
    const ids = ['nope', 'key_123', org.keyId.toUpperCase(), `${org.keyId}x`, "key_'%20OR%201=1--", '%00', '%E2%9C%93', 'key_' + 'a'.repeat(300), '..%2F..%2Fetc'];
    counter.reset();
    for (const id of ids) {
      for (const call of [
        target.http.get(`/v1/api-keys/${id}`),
        target.http.delete(`/v1/api-keys/${id}`),
        target.http.post(`/v1/api-keys/${id}/rotate`).send({}),
        target.http.get(`/v1/api-keys/${id}/usage`),
      ]) {
        const response = await call.set(bearer(org.key));
        expect({ id, status: response.status, code: response.body.error?.code }).toEqual({ id, status: 404, code: 'NOT_FOUND' });
      }
    }
    // DELETE and rotate open (and roll back) their transaction before looking at the id; nothing else is sent
    expect(counter.sql().filter((sql) => !/^(BEGIN|COMMIT|ROLLBACK)\b/i.test(sql))).toEqual([]);
  });

  it('answers every malformed Authorization with its envelope, never a 500, and never asks the database', async () => {
    const { secret: wellFormedUnknown } = generateKey();
    const good = org.key;
    const flipped = good.slice(0, -1) + (good.endsWith('a') ? 'b' : 'a');
    const cases: [string, string | undefined, number, string][] = [
      ['no header', undefined, 401, 'UNAUTHORIZED'],
      ['"Bearer" alone', 'Bearer', 401, 'UNAUTHORIZED'],
      ['"Bearer " with nothing after', 'Bearer ', 401, 'UNAUTHORIZED'],
      ['two spaces', `Bearer  ${good}`, 401, 'UNAUTHORIZED'],
      ['a tab instead of the space', `Bearer\t${good}`, 401, 'UNAUTHORIZED'],
      ['trailing text', `Bearer ${good} extra`, 401, 'UNAUTHORIZED'],
      ['Basic scheme', 'Basic dXNlcjpwYXNz', 401, 'UNAUTHORIZED'],
      ['Token scheme', `Token ${good}`, 401, 'UNAUTHORIZED'],
      ['key without scheme', good, 401, 'UNAUTHORIZED'],
      ['10 KB luci_ token', `Bearer luci_${'A'.repeat(10 * 1024)}`, 401, 'INVALID_API_KEY'],
      ['non-ASCII luci_ token', `Bearer ${good.slice(0, 10)}\u00fc${good.slice(11)}`, 401, 'INVALID_API_KEY'],
      ['wrong checksum', `Bearer ${flipped}`, 401, 'INVALID_API_KEY'],
      ['one character short', `Bearer ${good.slice(0, -1)}`, 401, 'INVALID_API_KEY'],
      ['one character long', `Bearer ${good}A`, 401, 'INVALID_API_KEY'],
      ['prefix only', 'Bearer luci_', 401, 'INVALID_API_KEY'],
      ['upper-case prefix', `Bearer LUCI_${good.slice(5)}`, 401, 'INVALID_SESSION'],
      ['non-ASCII non-key token', 'Bearer \u00e9t\u00e9', 401, 'INVALID_SESSION'],
    ];
    counter.reset();
    for (const [name, header, status, code] of cases) {
      let call = target.http.get('/v1/organization');
      if (header !== undefined) call = call.set('Authorization', header);
      const response = await call;
      expect({ name, status: response.status, code: response.body.error?.code }).toEqual({ name, status, code });
      expectEnvelope(response, status, code);
      expect(response.headers['x-ratelimit-limit']).toBeUndefined();
    }
    // none of these reached the database
    expect(counter.messages()).toEqual({});

    // a well-formed key that was never issued costs one lookup, then the same 401
    const unknown = await get('/v1/organization', wellFormedUnknown);
    expectEnvelope(unknown, 401, 'INVALID_API_KEY');
    expect(counter.statements()).toBe(1);

    // the scheme is case-insensitive (RFC 7235): these are the real key, accepted
    for (const scheme of ['bearer', 'BEARER', 'bEaReR']) {
      const response = await target.http.get('/v1/organization').set('Authorization', `${scheme} ${good}`);
      expect({ scheme, status: response.status }).toEqual({ scheme, status: 200 });
    }
  });

  it('stops an in-flight request whose key is revoked meanwhile: 401, not its result', async () => {
    const victim = await createKey(org.key, { name: 'in flight' });
    const usage = target.app.get(UsageRepository);
    const original = usage.buckets.bind(usage);
    let gate = new Gate();
    const spy = jest.spyOn(usage, 'buckets').mockImplementation(async (...args) => {
      await gate.pass();
      return original(...args);
    });
    try {
      // control: a held request that nobody revokes is answered normally
      const control = get(`/v1/api-keys/${victim.id}/usage`, victim.key).then((response) => response);
      await gate.reached;
      gate.open();
      expect((await control).status).toBe(200);

      gate = new Gate();
      const inFlight = get(`/v1/api-keys/${victim.id}/usage`, victim.key).then((response) => response);
      await gate.reached;
      await target.http.delete(`/v1/api-keys/${victim.id}`).set(bearer(org.key)).expect(200);
      gate.open();
      const response = await inFlight;
      expectEnvelope(response, 401, 'API_KEY_REVOKED');
      expect(response.body.data).toBeUndefined();
    } finally {
      gate.open();
      spy.mockRestore();
    }
  });

  it('counts usage and last use without a write per request: /usage by minute, hour and day', async () => {
    // A key with a small limit of its own (issue 4's per-key override), so that some requests
    // are refused (429) and counted as rate_limited; the reads below use the organization's key.
    const used = await createKey(org.key, { name: 'counted', rate_limit: { max: 5, window_seconds: 60 } });
    const read = (path: string) => get(path, org.key);
    expect((await read(`/v1/api-keys/${used.id}`)).body.last_used_at).toBeNull();

    const startedAt = Date.now();
    const statuses: number[] = [];
    for (let n = 0; n < 8; n++) statuses.push((await get('/v1/organization', used.key)).status);
    const endedAt = Date.now();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);

    // nothing was written per request: PostgreSQL has no usage yet
    expect((await read(`/v1/api-keys/${used.id}/usage?granularity=minute`)).body).toEqual({ data: [], flags: [] });
    await target.app.get(UsageFlusher).flush();

    const key = (await read(`/v1/api-keys/${used.id}`)).body;
    expect(key.last_used_at).toMatch(ISO);
    expect(Date.parse(key.last_used_at)).toBeGreaterThanOrEqual(startedAt - 1000);
    expect(Date.parse(key.last_used_at)).toBeLessThanOrEqual(endedAt + 1000);

    const truncation = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
    for (const granularity of ['minute', 'hour', 'day'] as const) {
      const response = await read(`/v1/api-keys/${used.id}/usage?granularity=${granularity}`);
      expect(response.status).toBe(200);
      const buckets = response.body.data as { timestamp: string; requests: number; rate_limited: number }[];
      expect(Object.keys(response.body)).toEqual(['data', 'flags']);
      expect(response.body.flags).toEqual([]);
      expect(buckets.length).toBeGreaterThanOrEqual(1);
      expect(buckets.length).toBeLessThanOrEqual(2); // 2 only when the requests straddled a boundary
      for (const bucket of buckets) {
        // hour buckets also say from how many client IPs (all of these came from this host) and whether flagged
        if (granularity === 'hour') expect(bucket).toMatchObject({ distinct_ips: 1, usage_spike: null, many_ips: null });
        else expect(Object.keys(bucket).sort()).toEqual(['rate_limited', 'requests', 'timestamp']);
        expect(bucket.timestamp).toMatch(ISO);
        expect(Date.parse(bucket.timestamp) % truncation[granularity]).toBe(0);
      }
      const sum = (field: 'requests' | 'rate_limited') => buckets.reduce((total, bucket) => total + bucket[field], 0);
      // `requests` counts the accepted ones; the refused ones are `rate_limited`
      expect({ granularity, requests: sum('requests'), rate_limited: sum('rate_limited') }).toEqual({ granularity, requests: 5, rate_limited: 3 });
    }
    // the default granularity is hour; a range without traffic is empty
    const byDefault = await read(`/v1/api-keys/${used.id}/usage`);
    expect(byDefault.body.data.reduce((total: number, bucket: { requests: number }) => total + bucket.requests, 0)).toBe(5);
    const earlier = await read(`/v1/api-keys/${used.id}/usage?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z`);
    expect(earlier.body).toEqual({ data: [], flags: [] });

    const badQueries = [
      'granularity=week', 'granularity=MINUTE', 'granularity=', 'from=yesterday', 'to=not-a-date',
      'from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z', 'granularity=minute&granularity=hour', 'window=5',
      'from=-000100-01-01T00:00:00Z', 'to=%2B010000-01-01T00:00:00Z', 'from=1969-12-31T23:59:59Z',
    ];
    for (const query of badQueries) {
      const response = await read(`/v1/api-keys/${used.id}/usage?${query}`);
      expect({ query, status: response.status, code: response.body.error?.code }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED' });
    }
  });

  // Behaviour that needs an app of its own and does not depend on the backend: run on one only
  // (defined there, not skipped elsewhere). Logs: on the first backend (the cheapest to start).
  const once: jest.It = backend.name === backends()[0].name ? it : ((() => undefined) as unknown as jest.It);

  // On both: pending usage is kept per database, so no other test run's flush can take it.
  it('shows last_used_at within 10 s with the default flush interval (no manual flush)', async () => {
    const plain = await startApp(backend, { authFailureMax: 1_000_000 });
    try {
      const owner = await newOrganization(plain);
      const used = await createKey(owner.key, { name: 'used once' }, plain);
      const before = Date.now();
      expect((await plain.http.get('/v1/organization').set(bearer(used.key))).status).toBe(200);
      // polled with the other key, so that only the one request above counts as use
      const lastUsed = await waitFor(
        'last_used_at',
        async () => ((await plain.http.get(`/v1/api-keys/${used.id}`).set(bearer(owner.key))).body.last_used_at as string | null) ?? undefined,
        10_000,
        250,
      );
      expect(Date.parse(lastUsed)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.now() - before).toBeLessThan(10_000);
    } finally {
      await plain.close();
    }
  });

  it('serves 1,000 authenticated requests with a warm cache without a single database query', async () => {
    const mine = await newOrganization();
    for (let n = 0; n < 3; n++) expect((await get('/v1/organization', mine.key)).status).toBe(200);

    // control: the counter sees the queries a request does make
    counter.reset();
    expect((await get('/v1/api-keys', mine.key)).status).toBe(200);
    expect(counter.statements()).toBeGreaterThanOrEqual(1);

    counter.reset();
    const statuses = new Map<number, number>();
    // 20 clients on keep-alive connections, 50 requests each
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        for (let n = 0; n < 50; n++) {
          const response = await fetch(`${target.url}/v1/organization`, { headers: bearer(mine.key) });
          await response.arrayBuffer();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        }
      }),
    );
    expect(Object.fromEntries(statuses)).toEqual({ 200: 1000 });
    expect({ statements: counter.statements(), messages: counter.messages() }).toEqual({ statements: 0, messages: {} });
  });

  once('writes no secret to the logs, even at debug level', async () => {
    const captured: string[] = [];
    const capture = (data: unknown) => captured.push(typeof data === 'string' ? data : Buffer.from(data as Uint8Array).toString('utf8'));
    const isConsole = (fd: unknown) => fd === 1 || fd === 2;
    const realWrite = fs.write;
    const realWriteSync = fs.writeSync;
    const spies = [
      jest.spyOn(process.stdout, 'write').mockImplementation((data: unknown) => (capture(data), true)),
      jest.spyOn(process.stderr, 'write').mockImplementation((data: unknown) => (capture(data), true)),
      jest.spyOn(fs, 'writeSync').mockImplementation(((fd: number, data: unknown, ...rest: unknown[]) => {
        if (!isConsole(fd)) return (realWriteSync as (...args: unknown[]) => number)(fd, data, ...rest);
        capture(data);
        return typeof data === 'string' ? Buffer.byteLength(data) : (data as Uint8Array).length;
      }) as typeof fs.writeSync),
      jest.spyOn(fs, 'write').mockImplementation(((fd: number, data: unknown, ...rest: unknown[]) => {
        if (!isConsole(fd)) return (realWrite as (...args: unknown[]) => void)(fd, data, ...rest);
        capture(data);
        const callback = rest[rest.length - 1] as (error: null, written: number) => void;
        const written = typeof data === 'string' ? Buffer.byteLength(data) : (data as Uint8Array).length;
        process.nextTick(() => callback(null, written));
      }) as typeof fs.write),
    ];
    const logged: string[] = [];
    const requestIds: string[] = [];
    let loud: TestApp | undefined;
    try {
      loud = await startApp(backend, { ...QUIET, logLevel: 'debug' });
      const owner = await seedOrganization(loud);
      logged.push(owner.key);
      const track = (response: request.Response) => (requestIds.push(response.headers['x-request-id']), response);
      const created = track(await loud.http.post('/v1/api-keys').set(bearer(owner.key)).send({ name: 'logged?' }));
      logged.push(created.body.key);
      track(await loud.http.get('/v1/organization').set(bearer(created.body.key)));
      track(await loud.http.get('/v1/api-keys').set(bearer(created.body.key)));
      const rotated = track(await loud.http.post(`/v1/api-keys/${created.body.id}/rotate`).set(bearer(owner.key)).send({}));
      logged.push(rotated.body.key);
      track(await loud.http.get('/v1/organization').set(bearer(created.body.key))); // revoked: 401
      track(await loud.http.get('/v1/organization').set('Authorization', `Bearer ${rotated.body.key}x`)); // malformed
      track(await loud.http.get('/v1/organization').set('Authorization', `Bearer  ${rotated.body.key}`)); // two spaces
      track(await loud.http.post('/v1/api-keys').set(bearer(rotated.body.key)).send({ name: rotated.body.key, nope: owner.key })); // 400
      track(await loud.http.delete(`/v1/api-keys/${rotated.body.id}`).set(bearer(rotated.body.key)));
      await loud.app.get(UsageFlusher).flush();
      await loud.close();
      loud = undefined;
    } finally {
      for (const spy of spies) spy.mockRestore();
      await loud?.close();
    }
    secrets.push(...logged);
    const text = captured.join('');
    // the capture did see the requests' log lines (each carries its request id)
    for (const id of requestIds) expect(text).toContain(id);
    expectNoSecret(text, logged);
  });

  it('stores no secret: a dump of the whole database contains none of the keys made above', async () => {
    expect(secrets.length).toBeGreaterThan(25);
    let dump: string;
    if (backend.databaseUrl) {
      const { stdout } = await promisify(execFile)('pg_dump', ['--no-owner', backend.databaseUrl], { maxBuffer: 512 * 1024 * 1024 });
      dump = stdout;
    } else {
      dump = await dumpEmbedded(target.app.get(PrismaService));
    }
    // the dump does hold the keys (their hashes and starts), just not the secrets
    expect(dump).toContain(sha256(org.key));
    expect(dump).toContain(org.keyId);
    for (const secret of secrets) {
      expect(dump.includes(secret) || dump.includes(secret.slice(5)) ? `${secret.slice(0, 9)}… found` : 'absent').toBe('absent');
    }
  });
});

/** The embedded database has no pg_dump: every row of every table, as JSON text. */
async function dumpEmbedded(prisma: PrismaService): Promise<string> {
  const tables = await prisma.$queryRaw<{ name: string }[]>`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`;
  const parts: string[] = [];
  for (const { name } of tables) {
    const rows = await prisma.$queryRawUnsafe<{ row: string }[]>(`SELECT row_to_json(t)::text AS row FROM "${name}" t`);
    parts.push(`-- ${name}\n${rows.map((row) => row.row).join('\n')}`);
  }
  return parts.join('\n');
}

const shared = sharedBackend();
(shared ? describe : describe.skip)('API keys on two instances sharing PostgreSQL + Redis', () => {
  let a: TestApp;
  let b: TestApp;
  /** Sees every statement instance B sends. */
  let bQueries: QueryCounter;
  let blocker: DatabaseBlocker;
  let org: SeededOrganization;

  const onA = (secret: string) => ({
    create: (body: Record<string, unknown>) => a.http.post('/v1/api-keys').set(bearer(secret)).send(body),
    revoke: (id: string) => a.http.delete(`/v1/api-keys/${id}`).set(bearer(secret)).timeout(5_000),
  });
  async function createOnA(name: string): Promise<{ id: string; key: string }> {
    const response = await onA(org.key).create({ name });
    expect(response.status).toBe(201);
    return response.body;
  }

  beforeAll(async () => {
    bQueries = await startQueryCounter(shared!);
    a = await startApp(shared!, QUIET);
    b = await startApp(bQueries.backend, QUIET);
    blocker = await DatabaseBlocker.connect(shared!.databaseUrl!);
    org = await seedOrganization(a);
  });
  afterAll(async () => {
    await blocker?.close();
    await a?.close();
    await b?.close();
    await bQueries?.close();
  });

  it('refuses a key on B at the very next request after A revoked it — 20 keys, caches warm, without a query on B', async () => {
    for (let n = 0; n < 20; n++) {
      const key = await createOnA(`revoked across instances ${n}`);
      for (let warm = 0; warm < 3; warm++) expect((await b.http.get('/v1/organization').set(bearer(key.key))).status).toBe(200);

      bQueries.reset();
      const revoked = await onA(org.key).revoke(key.id);
      expect(revoked.status).toBe(200);
      const next = await b.http.get('/v1/organization').set(bearer(key.key));
      expect({ n, status: next.status, code: next.body.error?.code }).toEqual({ n, status: 401, code: 'API_KEY_REVOKED' });
      expect(bQueries.statements()).toBe(0);

      // B agrees it is revoked, and revoking it again there changes nothing
      const again = await b.http.delete(`/v1/api-keys/${key.id}`).set(bearer(org.key));
      expect(again.status).toBe(200);
      expect(again.body.revoked_at).toBe(revoked.body.revoked_at);
    }
  });

  it('counts usage exactly once when a drainer dies holding a batch, before or after writing it', async () => {
    const used = await createOnA('usage across a dying drainer');
    // C: another instance of the deployment, on the same database address as A (B's goes through a
    // counting proxy, hence another usage namespace: it keeps its own pending usage and batches).
    const c = await startApp(shared!, QUIET);
    const redis = new Redis(shared!.redisUrl!);
    const batches = `lv:usage:${usageNamespace({ databaseUrl: shared!.databaseUrl, dataDir: '' })}:batches`;
    const total = async () =>
      ((await c.http.get(`/v1/api-keys/${used.id}/usage?granularity=day`).set(bearer(org.key))).body.data as { requests: number }[])
        .reduce((sum, bucket) => sum + bucket.requests, 0);
    /** A drain on A whose process "dies" in `write`: the claim is never released; then its time runs out. */
    const dieWhileDraining = async (writeFirst: boolean) => {
      let claimed!: () => void;
      const holding = new Promise<void>((resolve) => (claimed = resolve));
      void a.app.get(AdmissionStore).drainUsage(async (batch) => {
        if (writeFirst) await a.app.get(UsageRepository).add(batch);
        claimed();
        await new Promise(() => undefined);
      });
      await holding;
      expect(await redis.zcard(batches)).toBe(1);
      await redis.zadd(batches, 0, (await redis.zrange(batches, 0, 0))[0]);
    };
    try {
      for (let n = 0; n < 3; n++) expect((await a.http.get('/v1/organization').set(bearer(used.key))).status).toBe(200);
      await dieWhileDraining(true); // wrote the batch, died before the store forgot it
      await c.app.get(UsageFlusher).flush();
      expect(await total()).toBe(3);

      for (let n = 0; n < 2; n++) expect((await c.http.get('/v1/organization').set(bearer(used.key))).status).toBe(200);
      await dieWhileDraining(false); // died before writing it
      await c.app.get(UsageFlusher).flush();
      expect(await total()).toBe(5);
      expect(await redis.zcard(batches)).toBe(0);
      expect(await redis.keys(`${batches.slice(0, -'batches'.length)}batch:*`)).toEqual([]);
    } finally {
      redis.disconnect();
      await c.close();
    }
  });

  it('refuses the old key on B at once after a rotation on A; the new key works on B', async () => {
    const old = await createOnA('rotated across instances');
    expect((await b.http.get('/v1/organization').set(bearer(old.key))).status).toBe(200);
    const rotated = await a.http.post(`/v1/api-keys/${old.id}/rotate`).set(bearer(org.key)).send({});
    expect(rotated.status).toBe(201);
    expectEnvelope(await b.http.get('/v1/organization').set(bearer(old.key)), 401, 'API_KEY_REVOKED');
    expect((await b.http.get('/v1/organization').set(bearer(rotated.body.key))).status).toBe(200);
  });

  it('answers a read in flight on B 401 when A revokes its key meanwhile (B stalled on a table lock)', async () => {
    const victim = await createOnA('read in flight');
    const usage = () => b.http.get(`/v1/api-keys/${victim.id}/usage`).set(bearer(victim.key));
    expect((await usage()).status).toBe(200);

    // B's usage read waits on api_key_usage; revoking writes only api_keys and audit_events
    await blocker.hold('LOCK TABLE api_key_usage IN ACCESS EXCLUSIVE MODE');
    let inFlight: Promise<request.Response> | undefined;
    try {
      inFlight = usage().then((response) => response);
      await blocker.waitUntilSomeoneWaits();
      expect((await onA(org.key).revoke(victim.id)).status).toBe(200);
    } finally {
      await blocker.release();
    }
    const response = await inFlight!;
    expectEnvelope(response, 401, 'API_KEY_REVOKED');
    expect(response.body.data).toBeUndefined();
  });

  // Cut off from Redis while a read is in flight, the instance cannot hear of the revocation; its
  // event subscription was interrupted, so it asks the store before answering — which it cannot
  // reach either: the read is refused (503), never answered with the data.
  it('never answers a read in flight with its data when its instance lost Redis (and the revocation event) meanwhile', async () => {
    const redisUrl = new URL(shared!.redisUrl!);
    const redis = new TcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
    await redis.start();
    const c = await startApp({ ...shared!, redisUrl: redis.url(shared!.redisUrl!) }, QUIET);
    try {
      const victim = await createOnA('read in flight, partitioned');
      const usage = () => c.http.get(`/v1/api-keys/${victim.id}/usage`).set(bearer(victim.key));
      expect((await usage()).status).toBe(200);

      await blocker.hold('LOCK TABLE api_key_usage IN ACCESS EXCLUSIVE MODE');
      let inFlight: Promise<request.Response> | undefined;
      try {
        inFlight = usage().then((response) => response);
        await blocker.waitUntilSomeoneWaits();
        await redis.stop(); // C is cut off from Redis: it cannot hear of the revocation
        expect((await onA(org.key).revoke(victim.id)).status).toBe(200);
      } finally {
        await blocker.release();
      }
      const response = await inFlight!;
      expect([401, 503]).toContain(response.status);
      expect(['API_KEY_REVOKED', 'SERVICE_UNAVAILABLE']).toContain(response.body.error?.code);
      await redis.start();
      await waitFor('C to reach Redis again', async () => (await usage()).status !== 503, 10_000);
      expectEnvelope(await usage(), 401, 'API_KEY_REVOKED');
    } finally {
      await redis.start();
      await c.close();
      await redis.stop();
    }
  });

  it('rolls back a key creation in flight on B when A revokes the creating key before it commits', async () => {
    const creator = await createOnA('write in flight');
    const marker = `stalled-${randomBytes(6).toString('hex')}`;
    const lock = 0x4c56_0003;
    // Stall B's INSERT of this one key (and nothing else) until the test lets go of an advisory lock.
    const fn = `lv_test_stall_${marker.slice(8)}`;
    await blocker.query(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_advisory_xact_lock_shared(${lock}); RETURN NEW; END $$`);
    await blocker.query(`CREATE TRIGGER ${fn} AFTER INSERT ON api_keys FOR EACH ROW WHEN (NEW.name = '${marker}') EXECUTE FUNCTION ${fn}()`);
    let inFlight: Promise<request.Response> | undefined;
    try {
      await blocker.hold(`SELECT pg_advisory_xact_lock(${lock})`);
      try {
        inFlight = b.http.post('/v1/api-keys').set(bearer(creator.key)).send({ name: marker }).then((response) => response);
        await blocker.waitUntilSomeoneWaits();
        expect((await onA(org.key).revoke(creator.id)).status).toBe(200);
      } finally {
        await blocker.release();
      }
      const response = await inFlight!;
      expectEnvelope(response, 401, 'API_KEY_REVOKED');
      expect(response.body.key).toBeUndefined();
    } finally {
      await blocker.query(`DROP TRIGGER IF EXISTS ${fn} ON api_keys`);
      await blocker.query(`DROP FUNCTION IF EXISTS ${fn}()`);
    }
    // the key it was creating does not exist, nor its audit event
    const listed = await a.http.get('/v1/api-keys?limit=100').set(bearer(org.key));
    expect(listed.body.data.map((item: { name: string }) => item.name)).not.toContain(marker);
    const rows = await blocker.query(
      `SELECT (SELECT count(*) FROM api_keys WHERE name = $1)::int AS keys,
              (SELECT count(*) FROM audit_events WHERE data->>'name' = $1)::int AS events`,
      [marker],
    );
    expect(rows.rows[0]).toEqual({ keys: 0, events: 0 });
  });

  it('rolls back a rotation in flight on B when A revokes the rotating key before it commits', async () => {
    const rotator = await createOnA('rotating in flight');
    const target = await createOnA('rotation target');
    const before = (await a.http.get('/v1/api-keys?limit=100').set(bearer(org.key))).body.data.length;

    // B's rotation reads the target, inserts the new key, then waits to update the target's row
    await blocker.hold(`SELECT id FROM api_keys WHERE id = '${target.id}' FOR UPDATE`);
    let inFlight: Promise<request.Response> | undefined;
    try {
      inFlight = b.http.post(`/v1/api-keys/${target.id}/rotate`).set(bearer(rotator.key)).send({}).then((response) => response);
      await blocker.waitUntilSomeoneWaits();
      expect((await onA(org.key).revoke(rotator.id)).status).toBe(200);
    } finally {
      await blocker.release();
    }
    const response = await inFlight!;
    expectEnvelope(response, 401, 'API_KEY_REVOKED');
    expect(response.body.key).toBeUndefined();

    // nothing of the rotation remains: no new key, the target is not revoked and still works
    expect((await a.http.get('/v1/api-keys?limit=100').set(bearer(org.key))).body.data.length).toBe(before);
    expect((await a.http.get(`/v1/api-keys/${target.id}`).set(bearer(org.key))).body.revoked_at).toBeNull();
    expect((await b.http.get('/v1/organization').set(bearer(target.key))).status).toBe(200);
  });
});
