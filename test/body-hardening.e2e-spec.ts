import type request from 'supertest';
import { encodeRequest, exchange } from './support/fuzz-http';
import { ONE_MIB, blockBudgetMs, longestBlock, wideObject } from './support/fuzz-worst-cases';
import { LinkedOrganization, linkedOrganization } from './support/matrix-organizations';
import { StytchFixture, hideStytchBaseUrlWarning } from './support/stytch-fixture';
import { Backend, TestApp, backends, bearer, expectEnvelope, startApp } from './support/test-app';

/**
 * Request bodies (CONTRACT §4): what a body costs the service is bounded before anything reads
 * it; unknown fields are refused whatever their name; free-form record data comes back exactly
 * as sent; and a member who may not manage keys is refused before the body is validated.
 */

/** Every own member of Object.prototype a JSON key can name (`__proto__` is the parser's: below). */
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype).filter((name) => name !== '__proto__');

beforeAll(hideStytchBaseUrlWarning);

describe.each(backends())('request bodies on $name', (backend: Backend) => {
  let fixture: StytchFixture;
  let target: TestApp;
  let organization: LinkedOrganization;
  let port: number;
  const post = (path: string, body: string | object, auth = bearer(organization.key)): Promise<request.Response> =>
    target.http.post(path).set(auth).set('Content-Type', 'application/json').send(typeof body === 'string' ? body : JSON.stringify(body));

  beforeAll(async () => {
    fixture = await StytchFixture.start();
    target = await startApp(backend, { stytch: fixture.config, rateLimit: { max: 1_000_000, windowSeconds: 60 }, authFailureMax: 1_000_000 });
    organization = await linkedOrganization(target, fixture, 'Bodies', 'enterprise');
    port = Number(new URL(target.url).port);
  });

  afterAll(async () => {
    await target?.close();
    await fixture?.close();
  });

  describe('keys named like members of Object.prototype', () => {
    it.each(PROTOTYPE_NAMES)('an unknown field named %s is refused', async (name) => {
      const response = await post('/v1/datasets', `{"name":"prototype names",${JSON.stringify(name)}:1}`);
      const error = expectEnvelope(response, 400, 'VALIDATION_FAILED');
      expect(error.details).toEqual([{ field: name, message: `${name} is not a known field` }]);
    });

    it('is refused in a nested object and in the query string too', async () => {
      const dataset = (await post('/v1/datasets', { name: 'subject' })).body as { id: string };
      const subject = await post('/v1/provenance', `{"name":"p","data":{},"subject":{"type":"dataset","id":"${dataset.id}","hasOwnProperty":1,"constructor":2}}`);
      expect(expectEnvelope(subject, 400, 'VALIDATION_FAILED').details).toEqual([
        { field: 'subject.hasOwnProperty', message: 'subject.hasOwnProperty is not a known field' },
        { field: 'subject.constructor', message: 'subject.constructor is not a known field' },
      ]);
      const rateLimit = await post('/v1/api-keys', '{"name":"k","rate_limit":{"max":1,"window_seconds":60,"valueOf":1}}');
      expect(expectEnvelope(rateLimit, 400, 'VALIDATION_FAILED').details).toEqual([{ field: 'rate_limit.valueOf', message: 'rate_limit.valueOf is not a known field' }]);
      const query = await target.http.get('/v1/datasets?limit=2&toString=1').set(bearer(organization.key));
      expect(expectEnvelope(query, 400, 'VALIDATION_FAILED').details).toEqual([{ field: 'toString', message: 'toString is not a known field' }]);
    });

    it('free-form record data keeps them: what is stored is what was sent', async () => {
      const data = {
        ...Object.fromEntries(PROTOTYPE_NAMES.map((name, index) => [name, index])),
        prototype: [1, { constructor: 'nested' }],
        toJSON: 'not a function',
        then: 1,
        nested: { constructor: { a: 1 }, toString: 'text', valueOf: null, deeper: [{ hasOwnProperty: true }] },
      };
      const created = await post('/v1/model-cards', { name: 'Prototype names', data });
      expect({ status: created.status, data: created.body.data }).toEqual({ status: 201, data });
      const read = await target.http.get(`/v1/model-cards/${created.body.id}`).set(bearer(organization.key)).expect(200);
      expect(read.body.data).toEqual(data);
    });

    it('__proto__, and constructor holding prototype, are refused saying why', async () => {
      for (const body of ['{"name":"x","__proto__":{"polluted":true}}', '{"name":"x","data":{"a":{"__proto__":1}}}', '{"name":"x","data":{"constructor":{"prototype":{"polluted":true}}}}']) {
        const error = expectEnvelope(await post('/v1/model-cards', body), 400, 'VALIDATION_FAILED');
        expect(error.message).toBe('Request body must not contain a "__proto__" key, nor a "constructor" key holding "prototype".');
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });

  describe('the shape of a body is bounded before it is parsed', () => {
    it('refuses the 917 KB body of 115,000 unknown keys at once, and /healthz answers meanwhile', async () => {
      const text = wideObject(917 * 1024, (index) => `k${index.toString(36)}`, '1', '"name":"wide",');
      const bytes = Buffer.concat([
        encodeRequest({ method: 'POST', target: '/v1/datasets', headers: [['Host', 'h'], ['Authorization', `Bearer ${organization.key}`], ['Content-Type', 'application/json'], ['Content-Length', String(Buffer.byteLength(text))], ['Connection', 'close']] }),
        Buffer.from(text),
      ]);
      const health = encodeRequest({ method: 'GET', target: '/healthz', headers: [['Host', 'h'], ['Connection', 'close']] });
      // the smaller of two tries: this process's own garbage collection is not the body's cost
      const tries = [];
      for (let attempt = 0; attempt < 2; attempt++) {
        tries.push(
          await longestBlock(async () => {
            const refused = exchange(port, bytes, { timeoutMs: 30_000 });
            const started = Date.now();
            const healthz = await exchange(port, health, { timeoutMs: 30_000 });
            return { refused: await refused, healthz, healthzMs: Date.now() - started };
          }),
        );
      }
      const { result, blockedMs } = tries.sort((a, b) => a.blockedMs - b.blockedMs)[0];
      const answer = result.refused.responses[0];
      expect({ status: answer?.status, healthz: result.healthz.responses[0]?.status }).toEqual({ status: 400, healthz: 200 });
      expect(JSON.parse(answer.body.toString()).error).toEqual({ code: 'VALIDATION_FAILED', message: 'Request body is an object of more than 10,000 keys.', request_id: expect.any(String) });
      expect({ blockedMs, healthzMs: result.healthzMs }).toEqual({ blockedMs: expect.any(Number), healthzMs: expect.any(Number) });
      expect(blockedMs).toBeLessThan(blockBudgetMs(text.length));
      expect(result.healthzMs).toBeLessThan(blockBudgetMs(text.length));
    });

    it('accepts the largest records the API allows', async () => {
      const values = { list: Array.from({ length: 32_700 }, () => 0) };
      const keys = Object.fromEntries(Array.from({ length: 8_000 }, (_, index) => [index.toString(36), 1]));
      let deep: Record<string, unknown> = { leaf: 'x'.repeat(1_000) };
      for (let level = 1; level < 16; level++) deep = { [`l${level}`]: deep };
      const long = { text: 'é'.repeat(30_000) };
      for (const data of [values, keys, deep, long]) {
        expect(Buffer.byteLength(JSON.stringify(data))).toBeLessThanOrEqual(64 * 1024);
        const created = await post('/v1/compliance', { name: 'Largest', data });
        expect(created.status).toBe(201);
        expect(created.body.data).toEqual(data);
      }
    });

    it('names the field over a limit', async () => {
      const error = expectEnvelope(await post('/v1/model-cards', `{"name":"x","data":{"notes":["${'n'.repeat(70_000)}"]}}`), 400, 'VALIDATION_FAILED');
      expect(error).toMatchObject({
        message: 'Request body field data.notes.0 is a string longer than 65,536 characters.',
        details: [{ field: 'data.notes.0', message: 'data.notes.0 is a string longer than 65,536 characters' }],
      });
    });

    it('lists at most 20 problems and counts the rest', async () => {
      const error = expectEnvelope(await post('/v1/datasets', wideObject(ONE_MIB / 2, (index) => `unknown${index}`, '1', '"name":42,', 5_000)), 400, 'VALIDATION_FAILED');
      // name's own problems (it is not a string) come first, then the 5,000 unknown fields
      expect(error.message).toMatch(/^Request validation failed: the first 20 of 5,00[1-9] problems are listed \(4,98[1-9] more\)\.$/);
      expect((error.details as unknown[]).length).toBe(20);
      expect((error.details as Array<{ field: string }>)[0].field).toBe('name');
    });

    it('refuses at once a body that is not an object, and a nested object sent as an array', async () => {
      for (const body of [`[${Array(30_000).fill('{}').join(',')}]`, '"name"', '42', 'true']) {
        expect(expectEnvelope(await post('/v1/datasets', body), 400, 'VALIDATION_FAILED').message).toBe('Request body must be a JSON object.');
      }
      const nested = await post('/v1/api-keys', `{"name":"k","rate_limit":[${Array(30_000).fill('{}').join(',')}]}`);
      expect(expectEnvelope(nested, 400, 'VALIDATION_FAILED').details).toEqual([{ field: 'rate_limit', message: 'rate_limit must be a JSON object' }]);
    });
  });

  describe('a member who may not manage keys is refused before the body is validated', () => {
    it('creating, rotating and revoking answer 403 whatever the body', async () => {
      const member = bearer(await organization.memberToken());
      const invalid = { name: 42, environment: 'moon', unknown: true, rate_limit: { max: 0 } };
      expectEnvelope(await post('/v1/api-keys', invalid, member), 403, 'FORBIDDEN');
      expectEnvelope(await post(`/v1/api-keys/${organization.keyId}/rotate`, { grace_period_seconds: -5, extra: 1 }, member), 403, 'FORBIDDEN');
      expectEnvelope(await target.http.delete(`/v1/api-keys/${organization.keyId}`).set(member), 403, 'FORBIDDEN');
      // reading stays open to every member, and the key is untouched
      const key = await target.http.get(`/v1/api-keys/${organization.keyId}`).set(member).expect(200);
      expect(key.body.revoked_at).toBeNull();
    });

    it('an admin member and an API key still manage keys, and their invalid bodies are still validated', async () => {
      const admin = bearer(await organization.adminToken());
      expect((await post('/v1/api-keys', { name: 'by an admin' }, admin)).status).toBe(201);
      expect((await post('/v1/api-keys', { name: 'by a key' })).status).toBe(201);
      expectEnvelope(await post('/v1/api-keys', { name: 42 }, admin), 400, 'VALIDATION_FAILED');
    });
  });
});
