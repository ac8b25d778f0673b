import fc from 'fast-check';
import { randomBytes, randomInt } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { RawExchange, encodeRequest, exchange } from './support/fuzz-http';
import { CheckOptions, contractProblems, describeBytes } from './support/fuzz-oracle';
import { FuzzCase, FuzzTargets, mangledRequestArbitrary, requestArbitrary } from './support/fuzz-requests';
import { ONE_MIB, blockBudgetMs, longestBlock, wideObject, worstCases } from './support/fuzz-worst-cases';
import { LinkedOrganization, OpenApiDocument, linkedOrganization, routeTable } from './support/matrix-organizations';
import { StytchFixture, hideStytchBaseUrlWarning } from './support/stytch-fixture';
import { Backend, TestApp, backends, bearer, seedOrganization, startApp } from './support/test-app';
import { fastWebhooks } from './support/webhook-receiver';

/**
 * Property-based fuzzing of the running app over real sockets (raw bytes: odd methods, duplicated
 * and non-ASCII headers, invalid UTF-8 — things supertest would normalise away). For every
 * generated request: no 5xx, every error is the contract envelope whose request_id is the
 * X-Request-Id header, every response has that header, no body shows internals or a credential,
 * and the process keeps answering.
 *
 * Bounded in `npm test`; `FUZZ_RUNS=<n>` (the `test:fuzz` script) runs n generated requests per
 * backend (and n/4 mangled ones); `FUZZ_SEED=<seed>` replays a run; `FUZZ_DEBUG=<file>` appends
 * every request sent, and its timing, to that file.
 */

const LONG_RUNS = Number(process.env.FUZZ_RUNS) || 0;
const RUNS = LONG_RUNS || 300;
const MANGLED_RUNS = LONG_RUNS ? Math.ceil(LONG_RUNS / 4) : 80;
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() ^ (Math.random() * 0x7fffffff);
const PER_RUN_BUDGET_MS = 1_000;
/** The client address every request claims (X-Forwarded-For, trusted here): a brute-force-brake bucket of the fuzzer's own. */
const CLIENT_IP = `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

beforeAll(hideStytchBaseUrlWarning);

/** Tags every other request has; they tell nothing about why one failed. */
const COMMON_TAGS = new Set(['method:common', 'method:documented', 'auth:valid', 'query:random', 'id:real', 'id:other-prefix', 'body:route-shaped', 'plain']);

/**
 * Contract violations, grouped by how the answer broke the contract (status and problems); per
 * group up to three of the shortest requests with different unusual traits, for the report.
 */
class Violations {
  private readonly groups = new Map<string, { count: number; examples: Map<string, { fuzzCase: FuzzCase; response: string }> }>();

  get size(): number {
    return this.groups.size;
  }

  add(problems: string[], fuzzCase: FuzzCase, result: RawExchange): void {
    const response = result.responses[0];
    const signature = `${response ? response.status : 'no response'}: ${problems.map((problem) => problem.replace(/: ".*$/s, '')).join('; ')}`;
    const shown = response ? `${response.status} ${describeBytes(response.body, 300)}` : 'no response';
    const traits = fuzzCase.tags.filter((tag) => !COMMON_TAGS.has(tag)).sort().join(' ') || 'plain';
    let group = this.groups.get(signature);
    if (!group) this.groups.set(signature, (group = { count: 0, examples: new Map() }));
    group.count += 1;
    const known = group.examples.get(traits);
    if (known ? fuzzCase.bytes.length < known.fuzzCase.bytes.length : group.examples.size < 3) group.examples.set(traits, { fuzzCase, response: shown });
  }

  report(label: string): string {
    const lines = [`${label}: ${this.groups.size} kind(s) of contract violation (seed ${SEED}; rerun with FUZZ_SEED=${SEED})`];
    for (const [signature, group] of this.groups) {
      lines.push(`\n• ${signature} — ${group.count} request(s)`);
      const examples = [...group.examples].sort((x, y) => x[1].fuzzCase.bytes.length - y[1].fuzzCase.bytes.length);
      for (const [traits, { fuzzCase, response }] of examples) {
        lines.push(`  [${traits}] "${describeBytes(fuzzCase.bytes)}"`, `    → ${response}`);
      }
    }
    return lines.join('\n');
  }
}

/** Route templates from the OpenAPI document, plus the unlisted paths a client can still hit. */
function templatesFrom(document: { paths: Record<string, unknown> }): string[] {
  const listed = Object.keys(document.paths);
  const unlisted = ['/', '/metrics', '/docs', '/docs/openapi.json', '/docs/{id}', '/healthz/{id}', '/v1', '/v1/{id}', '/v1/{id}/{id}', '/v2/datasets/{id}', '/v1/audit/{id}', '/v1/audit/events/{id}', '/v1/session/{id}', '/v1/organization/{id}'];
  return [...new Set([...listed, ...unlisted])];
}

describe.each(backends())('fuzzing on $name', (backend: Backend) => {
  let fixture: StytchFixture;
  let target: TestApp;
  let port: number;
  let organization: LinkedOrganization;
  let targets: FuzzTargets;
  let secrets: string[];
  const counts = { generated: 0, mangled: 0, regressions: 0, retried: 0 };
  /** The request that held the event loop longest, of all sent (the smaller of two tries when over budget). */
  let longest = { blockedMs: 0, bytes: 0, what: '' };

  /**
   * Sends a case and checks the answer; a connection closed with no answer at all is retried once
   * before it counts. A request over its event-loop budget is timed once more and the smaller
   * figure kept: a pause of this process's own garbage collector is not the request's cost.
   */
  const check = async (fuzzCase: FuzzCase, violations: Violations): Promise<string[]> => {
    const started = Date.now();
    if (process.env.FUZZ_DEBUG) appendFileSync(process.env.FUZZ_DEBUG, `${new Date().toISOString()} ${fuzzCase.tags.join(' ')} ${describeBytes(fuzzCase.bytes, 400)}\n`);
    const send = () => longestBlock(() => exchange(port, fuzzCase.bytes, { timeoutMs: 10_000, headRequest: fuzzCase.head }));
    let { result, blockedMs } = await send();
    if (result.responses.length === 0 && !result.timedOut) {
      counts.retried += 1;
      ({ result, blockedMs } = await send());
    }
    if (blockedMs > blockBudgetMs(fuzzCase.bytes.length)) blockedMs = Math.min(blockedMs, (await send()).blockedMs);
    if (blockedMs > longest.blockedMs) longest = { blockedMs, bytes: fuzzCase.bytes.length, what: fuzzCase.tags.filter((tag) => !COMMON_TAGS.has(tag)).join(' ') || 'plain' };
    if (process.env.FUZZ_DEBUG) appendFileSync(process.env.FUZZ_DEBUG, `  → ${Date.now() - started} ms (loop blocked ${blockedMs.toFixed(1)} ms) ${result.responses[0]?.status ?? 'no response'}\n`);
    const options: CheckOptions = { secrets, echoes: fuzzCase.echoes, head: fuzzCase.head };
    const problems = contractProblems(result, options);
    if (blockedMs > blockBudgetMs(fuzzCase.bytes.length)) problems.push(`event loop blocked ${Math.round(blockedMs)} ms by a request of ${fuzzCase.bytes.length} bytes`);
    if (problems.length > 0) violations.add(problems, fuzzCase, result);
    return problems;
  };

  beforeAll(async () => {
    fixture = await StytchFixture.start();
    target = await startApp(backend, {
      stytch: fixture.config,
      // the fuzzer sends thousands of requests with one key and from one address
      rateLimit: { max: 10_000_000, windowSeconds: 60 },
      authFailureMax: 10_000_000,
      // the client IP (for the brute-force brake) comes from X-Forwarded-For: see FuzzTargets.clientIp
      trustProxy: true,
      // webhook routes configured on every backend (not 503); private targets refused, so nothing is ever delivered
      webhooks: fastWebhooks(randomBytes(32), { allowPrivateTargets: false }),
    });
    port = Number(new URL(target.url).port);
    organization = await linkedOrganization(target, fixture, 'Fuzz');
    const auth = bearer(organization.key);

    // Resources the fuzzer may read, delete, revoke or rotate — never the key it fuzzes with.
    const ids: string[] = [];
    const create = async (path: string, body: object) => {
      const response = await target.http.post(path).set(auth).send(body);
      expect({ path, status: response.status }).toEqual({ path, status: 201 });
      ids.push(response.body.id as string);
      return response.body as { id: string; key?: string };
    };
    const dataset = await create('/v1/datasets', { name: 'fuzz dataset' });
    await create('/v1/datasets', { name: 'fuzz dataset 2', description: 'second' });
    const card = await create('/v1/model-cards', { name: 'fuzz card', data: { status: 'draft' } });
    await create('/v1/provenance', { name: 'origin', data: { source: 's3' }, subject: { type: 'dataset', id: dataset.id } });
    await create('/v1/provenance', { name: 'origin', data: {}, subject: { type: 'model_card', id: card.id } });
    for (const path of ['/v1/compliance', '/v1/certifications', '/v1/model-cards']) await create(path, { name: 'fuzz record', data: { n: 1 } });
    for (let i = 0; i < 3; i += 1) await create('/v1/api-keys', { name: `sacrificial ${i}` });
    const revoked = await create('/v1/api-keys', { name: 'revoked' });
    expect((await target.http.delete(`/v1/api-keys/${revoked.id}`).set(auth)).status).toBe(200);
    const events = await target.http.get('/v1/audit/events?limit=5').set(auth).expect(200);
    ids.push(...events.body.data.map((event: { id: string }) => event.id), organization.id);

    const free = await seedOrganization(target, 'free', 'Fuzz free');
    const otherCredentials = [revoked.key!, free.key, await organization.adminToken(), await organization.memberToken(), await fixture.mint({ expiresInSeconds: -60 })];
    const document = (await target.http.get('/docs/openapi.json').expect(200)).body as OpenApiDocument;
    const operations = routeTable(document).flatMap((route) => route.methods.map((method) => ({ method, template: route.path })));
    targets = { templates: templatesFrom(document), operations, ids, key: organization.key, otherCredentials, clientIp: CLIENT_IP };
    secrets = [organization.key, ...otherCredentials];
  });

  afterAll(async () => {
    const total = counts.generated + counts.mangled + counts.regressions;
    console.log(
      `fuzz cases on ${backend.name}: ${total} requests — ${counts.generated} generated, ${counts.mangled} byte-mangled, ${counts.regressions} regression cases` +
        ` (seed ${SEED}; ${counts.retried} sent twice after a connection closed with no answer); longest event-loop block` +
        ` ${longest.blockedMs.toFixed(1)} ms, by a request of ${(longest.bytes / 1024).toFixed(0)} KiB (${longest.what})`,
    );
    await target?.close();
    await fixture?.close();
  });

  it(
    'answers every generated request with a contract response',
    async () => {
      const violations = new Violations();
      await fc.assert(
        fc.asyncProperty(requestArbitrary(targets), async (fuzzCase) => {
          counts.generated += 1;
          await check(fuzzCase, violations);
        }),
        { numRuns: RUNS, seed: SEED },
      );
      if (violations.size > 0) throw new Error(violations.report(`${counts.generated} generated requests on ${backend.name}`));
    },
    60_000 + RUNS * PER_RUN_BUDGET_MS,
  );

  it(
    'answers byte-mangled requests with a contract response',
    async () => {
      const auth = `Bearer ${organization.key}`;
      const xff: [string, string] = ['X-Forwarded-For', CLIENT_IP];
      const base = [
        encodeRequest({ method: 'GET', target: '/v1/organization', headers: [['Host', 'h'], xff, ['Authorization', auth], ['Connection', 'close']] }),
        encodeRequest({ method: 'GET', target: '/v1/datasets?limit=5', headers: [['Host', 'h'], xff, ['Authorization', auth], ['Accept', 'application/json'], ['Connection', 'close']] }),
        encodeRequest({ method: 'DELETE', target: `/v1/datasets/ds_${'0'.repeat(28)}`, headers: [['Host', 'h'], xff, ['Authorization', auth], ['Connection', 'close']] }),
        encodeRequest({ method: 'GET', target: '/healthz', headers: [['Host', 'h'], ['Connection', 'close']] }),
        encodeRequest({ method: 'OPTIONS', target: '/v1/api-keys', headers: [['Host', 'h'], ['Origin', 'https://validate.lucitra.ai'], ['Access-Control-Request-Method', 'POST'], ['Connection', 'close']] }),
      ];
      const violations = new Violations();
      await fc.assert(
        fc.asyncProperty(mangledRequestArbitrary(base), async (fuzzCase) => {
          counts.mangled += 1;
          await check(fuzzCase, violations);
        }),
        { numRuns: MANGLED_RUNS, seed: SEED },
      );
      if (violations.size > 0) throw new Error(violations.report(`${counts.mangled} byte-mangled requests on ${backend.name}`));
    },
    60_000 + MANGLED_RUNS * PER_RUN_BUDGET_MS,
  );

  /**
   * Requests the fuzzer found breaking the contract, kept as fixed cases so they are checked on
   * every run whatever the seed. `key` stands for the Enterprise key.
   */
  const regressions: Array<[string, (key: string) => Buffer, { status: number; code: string }?]> = [
    ['absolute-form request target, no credential', () => raw('GET', 'http://fuzz.invalid/v1/organization'), { status: 401, code: 'UNAUTHORIZED' }],
    ['absolute-form request target, valid key', (key) => raw('GET', 'http://fuzz.invalid/v1/datasets', key)],
    ['percent-encoded /v1 prefix, no credential', () => raw('GET', '/%761/datasets'), { status: 401, code: 'UNAUTHORIZED' }],
    ['percent-encoded /v1 prefix, valid key', (key) => raw('GET', '/%76%31/organization', key)],
    ['percent-encoded /v1 prefix on a gated path, no credential', () => raw('GET', '/%761/audit/events'), { status: 401, code: 'UNAUTHORIZED' }],
    ['audit ?since= before year 0', (key) => raw('GET', '/v1/audit/events?since=-000001-01-01T00:00:00.000Z', key), { status: 400, code: 'VALIDATION_FAILED' }],
    ['audit ?since= at the JavaScript minimum date', (key) => raw('GET', '/v1/audit/events?since=-271821-04-20T00:00:00.000Z', key), { status: 400, code: 'VALIDATION_FAILED' }],
    ['dataset name with \\u0000', (key) => json('POST', '/v1/datasets', '{"name":"a\\u0000b"}', key), { status: 400, code: 'VALIDATION_FAILED' }],
    ['dataset description with \\u0000', (key) => json('POST', '/v1/datasets', '{"name":"a","description":"\\u0000"}', key), { status: 400, code: 'VALIDATION_FAILED' }],
    ['record data with \\u0000', (key) => json('POST', '/v1/model-cards', '{"name":"a","data":{"k":"v\\u0000"}}', key), { status: 400, code: 'VALIDATION_FAILED' }],
    ['record data with a lone surrogate', (key) => json('POST', '/v1/compliance', '{"name":"a","data":{"k":"\\udc00"}}', key), { status: 400, code: 'VALIDATION_FAILED' }],
    ['record name with \\u0000', (key) => json('POST', '/v1/certifications', '{"name":"a\\u0000","data":{}}', key), { status: 400, code: 'VALIDATION_FAILED' }],
    ['body nested 5000 arrays deep', (key) => json('POST', '/v1/datasets', `${'['.repeat(5000)}${']'.repeat(5000)}`, key), { status: 400, code: 'VALIDATION_FAILED' }],
    ['record data nested 3000 objects deep', (key) => json('POST', '/v1/model-cards', `{"name":"x","data":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`, key), { status: 400, code: 'VALIDATION_FAILED' }],
    ['key rate_limit nested 5000 objects deep', (key) => json('POST', '/v1/api-keys', `{"name":"x","rate_limit":${'{"max":'.repeat(5000)}1${'}'.repeat(5000)}}`, key), { status: 400, code: 'VALIDATION_FAILED' }],
    ['undecodable percent-encoding in the path', (key) => raw('GET', '/v1/datasets/%zz', key)],
    ['undecodable percent-encoding on a public path', () => raw('GET', '/healthz/%ff%fe')],
    ['OPTIONS without Origin (not a CORS preflight)', (key) => raw('OPTIONS', '/v1/datasets', key)],
    ['OPTIONS * (asterisk-form)', () => raw('OPTIONS', '*')],
    ['HTTP/1.1 request without Host', () => Buffer.from('GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n', 'latin1')],
    ['Expect header other than 100-continue', (key) => raw('GET', '/v1/organization', key, [['Expect', 'foo']])],
    ['CONNECT method', (key) => raw('CONNECT', 'fuzz.invalid:443', key)],
    ['request headers over 16 KiB', () => raw('GET', '/v1/organization', `luci_${'a'.repeat(17_000)}`), { status: 400, code: 'VALIDATION_FAILED' }],
    ['non-ASCII bytes in Authorization', () => raw('GET', '/v1/organization', undefined, [['Authorization', Buffer.from('Bearer luci_\xe9\xff', 'latin1')]]), { status: 401, code: 'INVALID_API_KEY' }],
    ['unknown method token', (key) => raw('FOO', '/v1/datasets', key)],
    ['__proto__ in the body', (key) => json('POST', '/v1/datasets', '{"name":"x","__proto__":{"polluted":true}}', key), { status: 400, code: 'VALIDATION_FAILED' }],
    ['an unknown field named hasOwnProperty', (key) => json('POST', '/v1/datasets', '{"name":"x","hasOwnProperty":1}', key), { status: 400, code: 'VALIDATION_FAILED' }],
    ['an unknown field named constructor in a nested object', (key) => json('POST', '/v1/api-keys', '{"name":"x","rate_limit":{"max":1,"window_seconds":60,"constructor":1}}', key), { status: 400, code: 'VALIDATION_FAILED' }],
    ['a 917 KB object of 115,000 unknown keys', (key) => json('POST', '/v1/datasets', wideObject(917 * 1024, (i) => `k${i.toString(36)}`, '1', '"name":"x",'), key), { status: 400, code: 'VALIDATION_FAILED' }],
    ['invalid UTF-8 in a JSON string', (key) => jsonBytes('POST', '/v1/datasets', Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), key)],
  ];

  // rows as objects: jest-each would take a missing third element for a `done` callback
  it.each(regressions.map(([name, build, expected]) => ({ name, build, expected })))('regression: $name', async ({ build, expected }) => {
    counts.regressions += 1;
    const bytes = build(organization.key);
    const result = await exchange(port, bytes, { timeoutMs: 10_000 });
    const problems = contractProblems(result, { secrets, echoes: echoesOf(bytes), head: false });
    const response = result.responses[0];
    const code = response ? (JSON.parse(response.body.toString() || '{}') as { error?: { code?: string } }).error?.code : undefined;
    if (expected && response && (response.status !== expected.status || code !== expected.code)) problems.push(`expected ${expected.status} ${expected.code}`);
    expect({ problems, response: response ? `${response.status} ${describeBytes(response.body, 300)}` : 'none' }).toEqual({ problems: [], response: expect.any(String) });
  });

  it('refuses the costliest bodies that fit in 1 MiB with the envelope, without holding the event loop', async () => {
    const health = raw('GET', '/healthz');
    const rows: Array<{ name: string; bytes: number; blockedMs: number; healthzMs: number; problems: string[] }> = [];
    for (const { name, path, text } of worstCases()) {
      const bytes = json('POST', path, text, organization.key);
      // the smaller of two tries: this process's own garbage collection is not the body's cost
      const tries = [];
      for (let attempt = 0; attempt < 2; attempt++) {
        tries.push(
          await longestBlock(async () => {
            const answer = exchange(port, bytes, { timeoutMs: 30_000 });
            const started = Date.now();
            await exchange(port, health, { timeoutMs: 30_000 });
            return { answer: await answer, healthzMs: Date.now() - started };
          }),
        );
      }
      const { result, blockedMs } = tries.sort((a, b) => a.blockedMs - b.blockedMs)[0];
      const problems = contractProblems(result.answer, { secrets, echoes: echoesOf(bytes).slice(0, 100), head: false });
      if (result.answer.responses[0]?.status !== 400) problems.push(`status ${result.answer.responses[0]?.status}`);
      if (blockedMs > blockBudgetMs(text.length)) problems.push(`event loop blocked ${Math.round(blockedMs)} ms`);
      rows.push({ name, bytes: Buffer.byteLength(text), blockedMs, healthzMs: Math.min(...tries.map((one) => one.result.healthzMs)), problems });
    }
    const worst = [...rows].sort((a, b) => b.blockedMs - a.blockedMs)[0];
    console.log(
      `costliest bodies on ${backend.name} (event loop held, /healthz wait; ms):\n` +
        rows.map((row) => `  ${row.blockedMs.toFixed(1).padStart(6)} ${String(row.healthzMs).padStart(5)}  ${(row.bytes / 1024).toFixed(0).padStart(5)} KiB  ${row.name}`).join('\n') +
        `\nworst: ${worst.name}, ${(worst.bytes / 1024).toFixed(0)} KiB: ${worst.blockedMs.toFixed(1)} ms`,
    );
    expect(rows.every((row) => row.bytes < ONE_MIB)).toBe(true);
    expect(rows.filter((row) => row.problems.length > 0).map((row) => `${row.name}: ${row.problems.join('; ')}`)).toEqual([]);
  }, 300_000);

  it('still answers /healthz, and the fuzzing key still works', async () => {
    const health = await exchange(port, raw('GET', '/healthz'));
    expect(health.responses[0]?.status).toBe(200);
    expect(JSON.parse(health.responses[0].body.toString())).toEqual({ status: 'ok' });
    const organizationResponse = await target.http.get('/v1/organization').set(bearer(organization.key));
    expect({ status: organizationResponse.status, id: organizationResponse.body.id }).toEqual({ status: 200, id: organization.id });
  });
});

type Headers = Array<[string, string | Buffer]>;

function raw(method: string, path: string, key?: string, extra: Headers = []): Buffer {
  const headers: Headers = [['Host', 'api.fuzz.invalid'], ['X-Forwarded-For', CLIENT_IP], ['Connection', 'close']];
  if (key) headers.push(['Authorization', `Bearer ${key}`]);
  return encodeRequest({ method, target: path, headers: [...headers, ...extra] });
}

function json(method: string, path: string, text: string, key: string): Buffer {
  return jsonBytes(method, path, Buffer.from(text, 'utf8'), key);
}

function jsonBytes(method: string, path: string, body: Buffer, key: string): Buffer {
  return Buffer.concat([raw(method, path, key, [['Content-Type', 'application/json'], ['Content-Length', String(body.length)]]), body]);
}

/** The request line's target and the body's strings: what an answer may repeat. */
function echoesOf(bytes: Buffer): string[] {
  const text = bytes.toString('latin1');
  const target = text.split('\r\n', 1)[0].split(' ')[1] ?? '';
  return [target, ...text.split(/[\r\n"{}:,[\]]+/).filter((piece) => piece.length >= 2)];
}
