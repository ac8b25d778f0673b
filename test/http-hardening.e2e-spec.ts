import http from 'node:http';
import net from 'node:net';
import { AdmissionStore } from '../src/store/admission-store';
import { RawResponse, chunked, exchange, header, parseResponses } from './support/fuzz-http';
import { QueryCounter, startQueryCounter } from './support/query-counter';
import { RedisCommandProxy } from './support/redis-command-proxy';
import { ProxiedBackend, TcpProxy, proxyBackend } from './support/tcp-proxy';
import { Backend, TestApp, backends, bearer, seedOrganization, sharedBackend, startApp } from './support/test-app';

const OVER_LIMIT = Buffer.alloc(5 * 1024 * 1024, 'x');
const BROWSER_ONLY = [
  'cross-origin-opener-policy', 'origin-agent-cluster', 'x-dns-prefetch-control', 'x-download-options',
  'x-permitted-cross-domain-policies', 'x-xss-protection',
];

describe.each(backends())('HTTP hardening on $name', (backend: Backend) => {
  let target: TestApp;
  let port: number;
  let key: string;

  beforeAll(async () => {
    target = await startApp(backend);
    port = Number(new URL(target.url).port);
    ({ key } = await seedOrganization(target));
  });
  afterAll(() => target.close());

  const post = (path: string, headers: Record<string, string | number>) =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`;

  describe('a body over the 1 MiB limit always gets a 413 the client can read', () => {
    it('Content-Length over the limit with Expect: 100-continue: 413 at once, no 100 Continue', async () => {
      const talk = await converse(port, post('/v1/datasets', { ...bearer(key), 'Content-Type': 'application/json', 'Content-Length': OVER_LIMIT.length, Expect: '100-continue' }), OVER_LIMIT, 'wait');
      expect(talk.interim).toEqual([]);
      expect(talk.bodySent).toBe(false);
      expectTooLarge(talk.response, { rateLimited: true });
    });

    it('an unauthenticated request with Expect: 100-continue: 401 without 100 Continue', async () => {
      const talk = await converse(port, post('/v1/datasets', { 'Content-Type': 'application/json', 'Content-Length': 20, Expect: '100-continue' }), Buffer.from('{"name":"anonymous"}'), 'wait');
      expect(talk.interim).toEqual([]);
      expect(talk.response?.status).toBe(401);
      expect(envelopeCode(talk.response)).toBe('UNAUTHORIZED');
    });

    it('a valid small POST with Expect: 100-continue: 100 Continue, then 201', async () => {
      const body = Buffer.from('{"name":"after continue"}');
      const talk = await converse(port, post('/v1/datasets', { ...bearer(key), 'Content-Type': 'application/json', 'Content-Length': body.length, Expect: '100-continue' }), body, 'wait');
      expect(talk.interim).toEqual(['HTTP/1.1 100 Continue']);
      expect(talk.response?.status).toBe(201);
    });

    it('the whole body sent at once without Expect, 20 times over (http.request and fetch): every client reads the 413', async () => {
      const outcomes: string[] = [];
      for (let attempt = 0; attempt < 10; attempt++) {
        outcomes.push(await postWithNodeHttp(target.url, key));
        outcomes.push(await postWithFetch(target.url, key));
      }
      expect(outcomes).toEqual(Array(20).fill('413 PAYLOAD_TOO_LARGE no-store rate-limited'));
    });

    it('a chunked body over the limit (no Content-Length), sent at once: 413, no reset', async () => {
      const talk = await converse(port, post('/v1/datasets', { ...bearer(key), 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }), chunked(OVER_LIMIT, 64 * 1024), 'at-once');
      expect(talk.error).toBeUndefined();
      expect(talk.bodySent).toBe(true);
      expectTooLarge(talk.response, { rateLimited: true });
    });

    it('a chunked body over the limit after 100 Continue: 413, no reset', async () => {
      const talk = await converse(port, post('/v1/datasets', { ...bearer(key), 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', Expect: '100-continue' }), chunked(OVER_LIMIT, 64 * 1024), 'wait');
      expect(talk.interim).toEqual(['HTTP/1.1 100 Continue']);
      expect(talk.error).toBeUndefined();
      expect(talk.bodySent).toBe(true);
      expectTooLarge(talk.response, { rateLimited: true });
    });

    it('a body over the limit sent to an unknown path: a complete answer, no reset', async () => {
      const talk = await converse(port, post('/nowhere', { 'Content-Type': 'application/json', 'Content-Length': OVER_LIMIT.length }), OVER_LIMIT, 'at-once');
      expect(talk.error).toBeUndefined();
      expect(talk.bodySent).toBe(true);
      expect(talk.response?.status).toBe(413);
    });

    it('Expect: 100-continue but the body sent at once anyway: 413, no reset', async () => {
      const talk = await converse(port, post('/v1/datasets', { ...bearer(key), 'Content-Type': 'application/json', 'Content-Length': OVER_LIMIT.length, Expect: '100-continue' }), OVER_LIMIT, 'at-once');
      expect(talk.error).toBeUndefined();
      expect(talk.bodySent).toBe(true);
      expectTooLarge(talk.response, { rateLimited: true });
    });
  });

  it('reads a refused body under the bound off the wire and serves the next request on the connection', async () => {
    const body = Buffer.alloc(2 * 1024 * 1024, 'x');
    const bytes = Buffer.concat([
      Buffer.from(post('/v1/datasets', { 'Content-Type': 'application/json', 'Content-Length': body.length })), body,
      Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'),
    ]);
    const exchanged = await exchange(port, bytes, { expected: 2 });
    expect(exchanged.responses.map((response) => response.status)).toEqual([401, 200]);
  });

  it('reads at most 8 MiB of a body it refused before reading: past that, the connection is cut', async () => {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => undefined);
    let closed = false;
    const close = new Promise<void>((resolve) => socket.once('close', () => resolve(void (closed = true))));
    socket.write(post('/v1/datasets', { 'Content-Type': 'application/json', 'Content-Length': 64 * 1024 * 1024 }));
    const piece = Buffer.alloc(256 * 1024, 'x');
    let sent = 0;
    while (!closed && sent < 32 * 1024 * 1024) {
      if (!socket.write(piece)) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), close]);
      sent += piece.length;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([close, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
    clearTimeout(timer);
    socket.destroy();
    expect(parseResponses(Buffer.concat(received)).responses[0]?.status).toBe(401);
    expect({ closed, cutBefore32MiB: sent < 32 * 1024 * 1024 }).toEqual({ closed: true, cutBefore32MiB: true });
  });

  it('refuses a compressed body 415 before reading it, and takes an identity-encoded one', async () => {
    const body = Buffer.from('{"name":"zipped?"}');
    for (const encoding of ['gzip', 'br', 'deflate', 'GZIP', 'x-anything']) {
      const response = await target.http.post('/v1/datasets').set(bearer(key)).set('Content-Type', 'application/json').set('Content-Encoding', encoding).send(body.toString());
      expect({ encoding, status: response.status, code: response.body.error?.code, message: response.body.error?.message }).toEqual({
        encoding, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Only identity-encoded JSON is accepted: send the body without Content-Encoding.',
      });
      expect(response.headers['x-ratelimit-limit']).toBe('100');
    }
    const waiting = await converse(port, post('/v1/datasets', { ...bearer(key), 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Content-Length': body.length, Expect: '100-continue' }), body, 'wait');
    expect(waiting.interim).toEqual([]);
    expect(waiting.response?.status).toBe(415);
    const identity = await target.http.post('/v1/datasets').set(bearer(key)).set('Content-Encoding', 'identity').send({ name: 'plain' });
    expect(identity.status).toBe(201);
  });

  it('sends Cache-Control: no-store on every /v1 response: secrets, results and errors alike', async () => {
    const created = await target.http.post('/v1/api-keys').set(bearer(key)).send({ name: 'cached?', rate_limit: { max: 1, window_seconds: 60 } });
    expect(created.status).toBe(201);
    const limited = created.body.key as string;
    const responses = {
      created,
      rotated: await target.http.post(`/v1/api-keys/${created.body.id}/rotate`).set(bearer(key)).send({ grace_period_seconds: 60 }),
      read: await target.http.get('/v1/organization').set(bearer(key)),
      unauthenticated: await target.http.get('/v1/organization'),
      invalidKey: await target.http.get('/v1/organization').set(bearer('luci_nope')),
      notFound: await target.http.get('/v1/datasets/ds_unknown').set(bearer(key)),
      unrouted: await target.http.get('/v1/nothing/here').set(bearer(key)),
      wrongMethod: await target.http.put('/v1/api-keys').set(bearer(key)).send({}),
      malformed: await target.http.post('/v1/datasets').set(bearer(key)).set('Content-Type', 'application/json').send('{"name":'),
      tooLarge: await target.http.post('/v1/datasets').set(bearer(key)).set('Content-Type', 'application/json').send(JSON.stringify({ name: 'x'.repeat(1024 * 1024) })),
      first: await target.http.get('/v1/organization').set(bearer(limited)),
      rateLimited: await target.http.get('/v1/organization').set(bearer(limited)),
      badUrl: await target.http.get('/v1/%E0%A4%A').set(bearer(key)),
    };
    const seen = Object.fromEntries(Object.entries(responses).map(([name, response]) => [name, `${response.status} ${response.headers['cache-control']}`]));
    expect(seen).toEqual({
      created: '201 no-store', rotated: '201 no-store', read: '200 no-store', unauthenticated: '401 no-store', invalidKey: '401 no-store',
      notFound: '404 no-store', unrouted: '404 no-store', wrongMethod: '405 no-store', malformed: '400 no-store', tooLarge: '413 no-store',
      first: '200 no-store', rateLimited: '429 no-store', badUrl: '400 no-store',
    });
  });

  it('gives JSON answers the short API header set, and the docs page a CSP that loads its own assets', async () => {
    const response = await target.http.get('/v1/organization').set(bearer(key));
    expect(response.status).toBe(200);
    for (const name of BROWSER_ONLY) expect({ name, value: response.headers[name] }).toEqual({ name, value: undefined });
    expect(response.headers).toMatchObject({
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none';frame-ancestors 'none'",
      'content-type': 'application/json; charset=utf-8',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cross-origin-resource-policy': 'same-site',
    });
    process.stdout.write(`GET /v1/organization: ${Object.keys(response.headers).length} response headers\n`);

    const page = await target.http.get('/docs');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const csp = page.headers['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    // script-src 'self' forbids inline scripts: every script is a file served beside the page
    const scripts = [...page.text.matchAll(/<script([^>]*)>/g)].map((match) => /src="([^"]+)"/.exec(match[1])?.[1]);
    const styles = [...page.text.matchAll(/<link rel="stylesheet"[^>]*href="([^"]+)"/g)].map((match) => match[1]);
    expect(scripts.length).toBeGreaterThan(0);
    expect(scripts).not.toContain(undefined);
    for (const asset of [...scripts, ...styles] as string[]) {
      const url = new URL(asset, `${target.url}/docs`);
      expect(url.origin).toBe(target.url);
      const loaded = await target.http.get(url.pathname);
      expect({ asset, status: loaded.status, type: loaded.headers['content-type'] }).toEqual({
        asset, status: 200, type: expect.stringMatching(asset.endsWith('.css') ? /^text\/css/ : /javascript/),
      });
      expect(loaded.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('a burst of 50 /metrics scrapes and 50 /readyz probes costs at most a couple of database queries and store pings', async () => {
    const counter = await startQueryCounter(backend);
    const redis = backend.redisUrl ? new RedisCommandProxy(new URL(backend.redisUrl).hostname, Number(new URL(backend.redisUrl).port || 6379)) : undefined;
    await redis?.start();
    // PostgreSQL is counted on the wire (a new app behind the counter); PGlite in process (this app will do).
    const own = backend.databaseUrl ? await startApp({ ...counter.backend, redisUrl: redis?.url(backend.redisUrl!) }) : target;
    const pings = jest.spyOn(own.app.get(AdmissionStore), 'ping');
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      counter.reset();
      redis?.take();
      const answers = await Promise.all([
        ...Array.from({ length: 50 }, () => own.http.get('/metrics')),
        ...Array.from({ length: 50 }, () => own.http.get('/readyz')),
      ]);
      expect(new Set(answers.map((answer) => answer.status))).toEqual(new Set([200]));
      expect(answers[0].text).toMatch(/lv_dependency_up\{dependency="database"\} 1/);
      expect(answers[0].text).toMatch(/lv_dependency_up\{dependency="store"\} 1/);
      const probes = counter.sql().filter((sql) => /^\s*SELECT 1\s*$/i.test(sql)).length;
      expect(probes).toBeGreaterThanOrEqual(1);
      expect(probes).toBeLessThanOrEqual(2);
      expect(pings.mock.calls.length).toBeLessThanOrEqual(2);
      if (redis) expect(redis.take().filter((command) => command === 'ping').length).toBeLessThanOrEqual(2);
    } finally {
      pings.mockRestore();
      if (own !== target) await own.close();
      await redis?.stop();
      await counter.close();
    }
  });
});

const shared = sharedBackend();
(shared ? describe : describe.skip)('readiness cached for a second (PostgreSQL + Redis behind proxies)', () => {
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

  it.each([
    ['database', () => database],
    ['store', () => redis],
  ] as const)('reports the %s down within about a second, in /readyz and /metrics, and back up', async (name, proxy) => {
    expect((await target.http.get('/readyz')).status).toBe(200);
    await proxy().stop();
    const downAfter = await millisecondsUntil(async () => (await target.http.get('/readyz')).status === 503);
    expect(downAfter).toBeLessThan(1_600);
    expect((await target.http.get('/readyz')).body.error.message).toBe(`Not ready: the ${name} is unavailable.`);
    expect((await target.http.get('/metrics')).text).toContain(`lv_dependency_up{dependency="${name}"} 0`);
    await proxy().start();
    await millisecondsUntil(async () => (await target.http.get('/readyz')).status === 200, 10_000);
  });
});

interface Conversation {
  /** Status lines of the interim (1xx) responses. */
  interim: string[];
  response?: RawResponse;
  bodySent: boolean;
  error?: string;
}

/**
 * One request on a raw socket: the body is written at once, or only after `100 Continue`.
 * Settles once a final response is read and the body is written (or will not be), or on close.
 */
function converse(port: number, head: string, body: Buffer, mode: 'wait' | 'at-once'): Promise<Conversation> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    const talk: Conversation = { interim: [], bodySent: false };
    let writing = false;
    const settle = () => {
      clearTimeout(timer);
      const bytes = Buffer.concat(received);
      talk.interim = [...bytes.toString('latin1').matchAll(/^(HTTP\/1\.1 1\d\d[^\r]*)\r\n/gm)].map((match) => match[1]);
      talk.response = parseResponses(bytes).responses[0];
      socket.destroy();
      resolve(talk);
    };
    const timer = setTimeout(settle, 20_000);
    const send = () => {
      writing = true;
      socket.write(body, (error?: NodeJS.ErrnoException | null) => {
        writing = false;
        talk.bodySent = !error;
        if (error) talk.error ??= error.code ?? error.message;
        if (parseResponses(Buffer.concat(received)).responses.length > 0) settle();
      });
    };
    socket.on('connect', () => {
      socket.write(head);
      if (mode === 'at-once') send();
    });
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      const bytes = Buffer.concat(received);
      if (mode === 'wait' && !talk.bodySent && !writing && /^HTTP\/1\.1 100 /m.test(bytes.toString('latin1'))) send();
      if (parseResponses(bytes).responses.length > 0 && !writing) settle();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      talk.error = error.code ?? error.message;
    });
    socket.on('close', settle);
  });
}

function envelopeCode(response: RawResponse | undefined): string | undefined {
  return response ? JSON.parse(response.body.toString()).error?.code : undefined;
}

function expectTooLarge(response: RawResponse | undefined, { rateLimited }: { rateLimited: boolean }): void {
  expect(response?.status).toBe(413);
  const error = JSON.parse(response!.body.toString()).error;
  expect(error.code).toBe('PAYLOAD_TOO_LARGE');
  expect(error.request_id).toBe(header(response!, 'x-request-id'));
  expect(header(response!, 'cache-control')).toBe('no-store');
  if (rateLimited) expect(header(response!, 'x-ratelimit-limit')).toBe('100');
}

/** How a client sees the answer: status, code, Cache-Control, rate-limit headers — or its error. */
function describeAnswer(status: number, headers: (name: string) => string | null | undefined, body: string): string {
  const code = JSON.parse(body).error?.code;
  return `${status} ${code} ${headers('cache-control')} ${headers('x-ratelimit-limit') ? 'rate-limited' : 'no rate-limit headers'}`;
}

/** Writes the whole body, reads the answer, and waits for the connection to close: any error on the way counts. */
function postWithNodeHttp(url: string, key: string): Promise<string> {
  return new Promise((resolve) => {
    let answer = 'no response';
    let failure = '';
    const request = http.request(`${url}/v1/datasets`, {
      method: 'POST',
      agent: false,
      headers: { ...bearer(key), 'Content-Type': 'application/json', 'Content-Length': OVER_LIMIT.length },
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        answer = describeAnswer(response.statusCode!, (name) => response.headers[name] as string, Buffer.concat(chunks).toString());
      });
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      failure = ` then http.request ${error.code ?? error.message}`;
    });
    request.on('close', () => resolve(answer + failure));
    request.end(OVER_LIMIT);
  });
}

async function postWithFetch(url: string, key: string): Promise<string> {
  try {
    const response = await fetch(`${url}/v1/datasets`, { method: 'POST', headers: { ...bearer(key), 'Content-Type': 'application/json' }, body: OVER_LIMIT });
    return describeAnswer(response.status, (name) => response.headers.get(name), await response.text());
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return `fetch: ${cause?.code ?? cause?.message ?? String(error)}`;
  }
}

async function millisecondsUntil(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check().catch(() => false)) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`not within ${timeoutMs} ms`);
}
