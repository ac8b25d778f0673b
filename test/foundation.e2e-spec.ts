import { Logger } from '@nestjs/common';
import net from 'node:net';
import { PrismaService } from '../src/database/prisma.service';
import { OrganizationsService } from '../src/organizations/organizations.service';
import { ProxiedBackend, TcpProxy, proxyBackend } from './support/tcp-proxy';
import { Backend, TestApp, backends, bearer, expectEnvelope, seedOrganization, sharedBackend, startApp } from './support/test-app';

describe.each(backends())('foundation on $name', (backend: Backend) => {
  let target: TestApp;
  let key: string;

  beforeAll(async () => {
    target = await startApp(backend);
    ({ key } = await seedOrganization(target));
  });
  afterAll(() => target.close());

  it('puts a fresh req_ id on every response and never echoes the caller’s', async () => {
    const responses = await Promise.all([
      target.http.get('/healthz').set('X-Request-Id', 'req_mine'),
      target.http.get('/healthz'),
      target.http.get('/nope'),
      target.http.get('/v1/organization'),
      target.http.get('/v1/organization').set(bearer(key)),
    ]);
    const ids = responses.map((response) => response.headers['x-request-id']);
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-f]{24}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).not.toContain('req_mine');
  });

  it('answers an unknown route 404 with the envelope whose request_id is the header', async () => {
    const response = await target.http.get('/anything');
    expectEnvelope(response, 404, 'NOT_FOUND');
    expect(response.body.error.message).toBe('No route matches GET /anything.');
  });

  it('answers a known path with the wrong method 405 with Allow', async () => {
    const response = await target.http.put('/v1/api-keys').set(bearer(key)).send({});
    expectEnvelope(response, 405, 'METHOD_NOT_ALLOWED');
    expect(response.headers.allow).toBe('GET, POST');
  });

  it('answers malformed JSON 400 VALIDATION_FAILED', async () => {
    const response = await target.http.post('/v1/api-keys').set(bearer(key)).set('Content-Type', 'application/json').send('{"name":');
    expectEnvelope(response, 400, 'VALIDATION_FAILED');
  });

  it('answers a body that is not JSON 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const response = await target.http.post('/v1/api-keys').set(bearer(key)).set('Content-Type', type).send('name=x');
      expectEnvelope(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('authenticates before reading a body: refusals come first, and errors of a key carry its rate-limit headers', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) });
    expectEnvelope(await target.http.post('/v1/api-keys').set('Content-Type', 'application/json').send(big), 401, 'UNAUTHORIZED');
    for (const [type, body, status] of [
      ['application/json', '{"name":', 400],
      ['text/plain', 'hello', 415],
      ['application/json', big, 413],
    ] as const) {
      const response = await target.http.post('/v1/api-keys').set(bearer(key)).set('Content-Type', type).send(body);
      expect(response.status).toBe(status);
      expect(response.headers['x-ratelimit-limit']).toBe('100');
      expect(response.headers['x-ratelimit-remaining']).toMatch(/^\d+$/);
    }
  });

  it('answers a body over 1 MiB 413', async () => {
    const response = await target.http
      .post('/v1/api-keys')
      .set(bearer(key))
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ name: 'x'.repeat(1024 * 1024) }));
    expectEnvelope(response, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('rejects unknown and mistyped fields with details per field', async () => {
    const response = await target.http.post('/v1/api-keys').set(bearer(key)).send({ name: 42, environment: 'moon', extra: true });
    const error = expectEnvelope(response, 400, 'VALIDATION_FAILED');
    const fields = (error.details as { field: string }[]).map((detail) => detail.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'environment', 'extra']));
  });

  it('rejects a body that is not an object', async () => {
    for (const body of ['[]', '"name"', 'null', '42']) {
      const response = await target.http.post('/v1/api-keys').set(bearer(key)).set('Content-Type', 'application/json').send(body);
      expectEnvelope(response, 400, 'VALIDATION_FAILED');
    }
  });

  it('answers a bug 500 INTERNAL_ERROR without internals, and logs it without them too', async () => {
    const organizations = target.app.get(OrganizationsService);
    const spy = jest.spyOn(organizations, 'record').mockRejectedValueOnce(new Error('SELECT secret FROM pg_shadow at /srv/app.ts:1'));
    const logged = jest.spyOn(Logger.prototype, 'error');
    // a key not yet in the cache makes the guard read its organization
    const { key: freshKey } = await seedOrganization(target);
    const response = await target.http.get('/v1/organization').set(bearer(freshKey));
    const lines = logged.mock.calls.map((call) => call.slice(0, 2));
    spy.mockRestore();
    logged.mockRestore();
    expectEnvelope(response, 500, 'INTERNAL_ERROR');
    expect(JSON.stringify(response.body)).not.toMatch(/SELECT|pg_shadow|\.ts|at /);
    // the one line it wrote: the request, the code, the cause's type — no message, no stack
    expect(lines).toEqual([
      [{ request_id: response.headers['x-request-id'], code: 'INTERNAL_ERROR', cause: [{ type: 'Error' }] }, 'Request failed'],
    ]);
  });

  it('lets the dashboard origin call with Authorization and read our headers (CORS)', async () => {
    const preflight = await target.http
      .options('/v1/api-keys')
      .set('Origin', 'https://validate.lucitra.ai')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://validate.lucitra.ai');
    expect(preflight.headers['access-control-allow-headers']).toMatch(/Authorization/i);
    const response = await target.http.get('/v1/organization').set('Origin', 'https://validate.lucitra.ai').set(bearer(key));
    for (const header of ['X-Request-Id', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'Retry-After', 'RateLimit']) {
      expect(response.headers['access-control-expose-headers']).toContain(header);
    }
    const stranger = await target.http.get('/v1/organization').set('Origin', 'https://evil.example').set(bearer(key));
    expect(stranger.headers['access-control-allow-origin']).not.toBe('https://evil.example');
  });

  it('sends security headers and no framework banner', async () => {
    const response = await target.http.get('/v1/organization').set(bearer(key));
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(response.headers['x-powered-by']).toBeUndefined();
    expect(response.headers.server).toBeUndefined();
  });

  it('exposes Prometheus metrics, counting auth failures and 429s by reason', async () => {
    await target.http.get('/v1/organization').set(bearer('luci_nope'));
    const metrics = await target.http.get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/lv_http_requests_total\{method="GET",route="\/v1\/organization",status="200"\} \d+/);
    expect(metrics.text).toMatch(/lv_auth_failures_total\{reason="INVALID_API_KEY"\} \d+/);
    expect(metrics.text).toMatch(/lv_dependency_up\{dependency="database"\} 1/);
  });

  it('reports health and readiness without credentials', async () => {
    expect((await target.http.get('/healthz')).body).toEqual({ status: 'ok' });
    expect((await target.http.get('/readyz')).body).toEqual({ status: 'ready', checks: { database: 'ok', store: 'ok' } });
  });

  it('serves the OpenAPI document with the error envelope', async () => {
    const response = await target.http.get('/docs/openapi.json');
    expect(response.status).toBe(200);
    expect(Object.keys(response.body.paths)).toEqual(expect.arrayContaining(['/v1/api-keys', '/v1/api-keys/{id}', '/v1/organization']));
    expect(response.body.components.schemas.ErrorEnvelopeDto).toBeDefined();
    expect((await target.http.get('/docs')).status).toBe(200);
  });

  it('lets go of a connection it refused outside Fastify once the caller hangs up: close() does not wait on it', async () => {
    const own = await startApp(backend);
    const port = Number(new URL(own.url).port);
    // CONNECT with a 200 KB body: answered 405 from the raw socket; the body is never read
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const answer = new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))));
    socket.write(`CONNECT /v1/datasets HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n${'x'.repeat(200_000)}`);
    expect(await answer).toMatch(/^HTTP\/1\.1 405 /);
    socket.destroy();
    const started = Date.now();
    await own.close();
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe('metrics behind METRICS_TOKEN', () => {
  let target: TestApp;
  beforeAll(async () => {
    target = await startApp(backends()[0], { metricsToken: 'scrape-me' });
  });
  afterAll(() => target.close());

  it('asks for the token, and takes only the right one', async () => {
    expectEnvelope(await target.http.get('/metrics'), 401, 'UNAUTHORIZED');
    expectEnvelope(await target.http.get('/metrics').set('Authorization', 'Bearer scrape-me-not'), 401, 'UNAUTHORIZED');
    expect((await target.http.get('/metrics').set('Authorization', 'Bearer scrape-me')).status).toBe(200);
  });
});

const shared = sharedBackend();
(shared ? describe : describe.skip)('dependency outages (PostgreSQL + Redis behind proxies)', () => {
  let target: TestApp;
  let database: TcpProxy;
  let redis: TcpProxy;

  let proxied: ProxiedBackend;

  beforeAll(async () => {
    proxied = await proxyBackend(shared!);
    ({ database, redis } = proxied);
    target = await startApp(proxied.backend);
  });
  afterAll(async () => {
    await target.close();
    await proxied.stop();
  });

  /** /readyz once the outage shows: its probe result is reused for up to a second. */
  async function readyzOnceDown() {
    let response: Awaited<ReturnType<typeof target.http.get>> | undefined;
    await expectEventually(async () => (response = await target.http.get('/readyz')).status === 503, 2_000);
    return response!;
  }

  it('answers 503 while PostgreSQL is down and recovers by itself', async () => {
    const { key } = await seedOrganization(target);
    await database.stop();
    expectEnvelope(await readyzOnceDown(), 503, 'SERVICE_UNAVAILABLE');
    // creating a key writes to the database
    expectEnvelope(await target.http.post('/v1/api-keys').set(bearer(key)).send({ name: 'during outage' }), 503, 'SERVICE_UNAVAILABLE');
    await database.start();
    await expectEventually(async () => (await target.http.get('/readyz')).status === 200);
    expect((await target.http.post('/v1/api-keys').set(bearer(key)).send({ name: 'after outage' })).status).toBe(201);
  });

  it('answers 503 while Redis is down and recovers by itself', async () => {
    const { key } = await seedOrganization(target);
    await redis.stop();
    expectEnvelope(await readyzOnceDown(), 503, 'SERVICE_UNAVAILABLE');
    expectEnvelope(await target.http.get('/v1/organization').set(bearer(key)), 503, 'SERVICE_UNAVAILABLE');
    await redis.start();
    await expectEventually(async () => (await target.http.get('/v1/organization').set(bearer(key))).status === 200);
  });

  it('never leaks driver text in a 503', async () => {
    await target.app.get(PrismaService).$queryRaw`SELECT 1`;
    await database.stop();
    const response = await readyzOnceDown();
    await database.start();
    expect(JSON.stringify(response.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|postgres/i);
  });
});

async function expectEventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`not recovered within ${timeoutMs} ms`);
}
