import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { Client } from 'pg';
import { generateKey } from '../src/api-keys/key-format';
import { LoadGenerator, Outcome, Shot, describeOutcome, now, send, tally } from './support/fault-load';
import { freePort } from './support/fault-servers';
import { ExitStatus, ServiceProcess, admin, ensureBuilt } from './support/fault-service';
import { sharedBackend } from './support/test-app';
import { sleep } from './support/waiting';

/**
 * Graceful shutdown (issue 7): the real service as its own process (`node dist/main.js`) on the
 * test PostgreSQL and Redis, ~20 keep-alive requests in flight at all times, then SIGTERM.
 * Requests already in flight complete; later ones are refused cleanly (a new connection is
 * refused or reset, or the answer is a 503 envelope); the process exits 0 within the bound; and
 * nothing it wrote contains a key secret, while every request line carries its request id.
 */

const CONCURRENCY = 20;
const EXIT_BOUND_MS = 10_000;
/** The load runs this long, and at least until this many requests were answered, before the signal. */
const WARM_MS = 1_500;
const WARM_REQUESTS = 150;
const SECRET_SHAPE = /luci_[A-Za-z0-9]{38}/;
/** Requests held in flight across the signal: headers and half a body before it, the rest after. */
const HELD = 3;

type Kind = 'read' | 'write' | 'list' | 'unknown-key';
const MIX: Kind[] = ['read', 'write', 'read', 'list', 'read', 'write', 'read', 'unknown-key'];
/** Each kind's answer while the service runs normally. */
const NORMAL: Record<Kind, (o: Outcome) => boolean> = {
  read: (o) => o.status === 200,
  write: (o) => o.status === 201,
  list: (o) => o.status === 200,
  'unknown-key': (o) => o.status === 401 && o.code === 'INVALID_API_KEY',
};

const isRefusedNewConnection = (o: Outcome) =>
  o.status === undefined && !o.reusedSocket && (o.errorCode === 'ECONNREFUSED' || o.errorCode === 'ECONNRESET');
const isCleanRefusal = (o: Outcome) => !o.problem && o.status === 503 && o.code === 'SERVICE_UNAVAILABLE';

const shared = sharedBackend();
if (!shared) console.log('Skipping the graceful shutdown tests: no PostgreSQL/Redis for tests (sharedBackend() is undefined)');

(shared ? describe : describe.skip)('graceful shutdown: SIGTERM under load (node dist/main.js)', () => {
  let service: ServiceProcess;
  let secret: string;
  /** Well-formed (right shape and checksum) but never issued: refused, and must not be logged either. */
  const unknownSecret = generateKey().secret;
  let outcomes: Outcome[] = [];
  let held: Outcome[] = [];
  let sigtermAt = 0;
  let exitStatus: ExitStatus | undefined;
  let exitMs = Infinity;
  let afterExit: Outcome | undefined;
  let built = false;

  beforeAll(async () => {
    built = await ensureBuilt();
    const env = { DATABASE_URL: shared!.databaseUrl, REDIS_URL: shared!.redisUrl };
    const organization = await admin<{ id: string }>(env, 'org', 'create', '--name', 'Shutdown test');
    const key = await admin<{ key: string }>(env, 'key', 'create', '--org', organization.id, '--name', 'k');
    secret = key.key;
    expect(secret).toMatch(SECRET_SHAPE);
    service = new ServiceProcess(await freePort(), {
      ...env,
      LOG_LEVEL: 'info',
      // The load is far over the default limits; they are not what this test measures.
      RATE_LIMIT_MAX: '1000000',
      AUTH_FAILURE_MAX: '1000000',
    });
    await service.ready();
  }, 120_000);

  afterAll(() => {
    // LV_SHUTDOWN_LOG=file keeps what the service wrote, for a look at a failure.
    if (process.env.LV_SHUTDOWN_LOG && service) writeFileSync(process.env.LV_SHUTDOWN_LOG, `${service.stdout}\n--- stderr ---\n${service.stderr}`);
    service?.kill();
  });

  it('takes SIGTERM under ~20 concurrent keep-alive requests', async () => {
    // First requests of a fresh process are slow (pools, JIT); the signal should meet a service in its stride.
    const warmAgent = new http.Agent({ keepAlive: true });
    for (let i = 0; i < 3; i++) {
      for (const kind of Object.keys(NORMAL) as Kind[]) {
        const outcome = await send(warmAgent, service.url, shot(kind, -1 - i, secret, unknownSecret));
        expect({ kind, normal: NORMAL[kind](outcome), answer: describeOutcome(outcome) }).toMatchObject({ kind, normal: true });
      }
    }
    warmAgent.destroy();
    const load = new LoadGenerator({
      baseUrl: service.url,
      concurrency: CONCURRENCY,
      maxRequests: 50_000,
      maxDurationMs: 30_000,
      next: (n) => shot(MIX[n % MIX.length], n, secret, unknownSecret),
    }).start();
    await sleep(WARM_MS);
    for (const deadline = now() + 10_000; load.outcomes.length < WARM_REQUESTS && now() < deadline; ) await sleep(50);

    // A few requests the server has surely received (headers and half the body) when the signal comes.
    let release!: () => void;
    const holdBody = new Promise<void>((resolve) => (release = resolve));
    const heldAgent = new http.Agent({ keepAlive: false });
    const heldRequests = Array.from({ length: HELD }, (_, i) =>
      send(heldAgent, service.url, { kind: 'held', method: 'POST', path: '/v1/datasets', key: secret, body: { name: `held ${i}`, description: 'x'.repeat(2000) }, holdBody }, 15_000),
    );
    // Time for the server to read their headers, even on a busy machine.
    await sleep(500);

    sigtermAt = now();
    service.child.kill('SIGTERM');
    await sleep(300);
    release();

    exitStatus = await service.exit(EXIT_BOUND_MS + 2_000);
    exitMs = exitStatus ? now() - sigtermAt : Infinity;
    // A little load after the exit: new connections must be refused, not hang.
    await sleep(200);
    outcomes = await load.stop();
    held = await Promise.all(heldRequests);
    afterExit = await send(new http.Agent({ keepAlive: false }), service.url, shot('read', -1, secret, unknownSecret), 2_000);

    const before = outcomes.filter((o) => o.started < sigtermAt);
    const after = outcomes.filter((o) => o.started >= sigtermAt);
    const lost = outcomes.filter((o) => o.problem && !isRefusedNewConnection(o));
    console.log(
      [
        `Graceful shutdown — ${CONCURRENCY} keep-alive requests in flight, SIGTERM after ${((sigtermAt - load.startedAt) / 1000).toFixed(1)} s of load${built ? ' (dist rebuilt)' : ''}`,
        '',
        '| figure | value | target |',
        '|---|---|---|',
        `| requests sent | ${outcomes.length + held.length} | — |`,
        `| sent before SIGTERM, answered normally | ${before.filter((o) => NORMAL[o.kind as Kind](o)).length} of ${before.length} | all |`,
        `| held in flight across SIGTERM, completed 201 | ${held.filter((o) => o.status === 201 && !o.problem).length} of ${held.length} | all |`,
        `| sent after SIGTERM: answered normally / 503 envelope / new connection refused | ${after.filter((o) => NORMAL[o.kind as Kind](o)).length} / ${after.filter(isCleanRefusal).length} / ${after.filter(isRefusedNewConnection).length} | — |`,
        `| requests lost (hang, truncated, reset after sending, not an envelope) | ${lost.length + held.filter((o) => o.problem).length} | 0 |`,
        `| exit | ${exitStatus ? `code ${exitStatus.code}${exitStatus.signal ? `, signal ${exitStatus.signal}` : ''} after ${(exitMs / 1000).toFixed(2)} s` : 'none'} | code 0 within ${EXIT_BOUND_MS / 1000} s |`,
        '',
        `before SIGTERM: ${JSON.stringify(tally(before))}`,
        `after SIGTERM: ${JSON.stringify(tally(after, label))}`,
      ].join('\n'),
    );
    expect(before.length).toBeGreaterThanOrEqual(WARM_REQUESTS);
  }, 60_000);

  it(`exits with code 0 within ${EXIT_BOUND_MS / 1000} s of SIGTERM`, () => {
    expect(exitStatus).toEqual({ code: 0, signal: null });
    expect(exitMs).toBeLessThanOrEqual(EXIT_BOUND_MS);
  });

  it('completes the requests in flight when the signal came', () => {
    expect(held.map((o) => describeOutcome(o))).toEqual(Array(HELD).fill('201'));
    const before = outcomes.filter((o) => o.started < sigtermAt);
    // The last few sent before the signal may still be on their way: those may be refused cleanly, never lost.
    const early = before.filter((o) => o.started < sigtermAt - 50);
    expect(tally(early.filter((o) => !NORMAL[o.kind as Kind](o)))).toEqual({});
  });

  it('answers every request, or refuses it cleanly: no hang, no truncated response, no reset after a request was sent', () => {
    const bad = outcomes.filter((o) => !NORMAL[o.kind as Kind](o) && !isCleanRefusal(o) && !isRefusedNewConnection(o));
    expect(tally(bad, label)).toEqual({});
    expect(outcomes.filter((o) => o.started >= sigtermAt).length).toBeGreaterThan(0);
  });

  it('did not carry out a refused write: every dataset a refused POST named is absent', async () => {
    const refused = outcomes.filter((o) => o.kind === 'write' && o.status === undefined).map((o) => o.tag!);
    const answered = outcomes.filter((o) => o.kind === 'write' && o.status === 201).map((o) => o.tag!);
    const database = new Client({ connectionString: shared!.databaseUrl });
    await database.connect();
    try {
      const found = async (names: string[]) =>
        (await database.query<{ name: string }>('SELECT name FROM datasets WHERE name = ANY($1)', [names])).rows.map((row) => row.name);
      expect(await found(refused)).toEqual([]);
      // … while every answered one is there (the check can see what it looks for).
      expect((await found(answered)).length).toBe(answered.length);
    } finally {
      await database.end();
    }
  });

  it('refuses new connections once it has exited', () => {
    expect(afterExit?.errorCode).toBe('ECONNREFUSED');
  });

  it('writes no API key secret to stdout or stderr, at LOG_LEVEL=info', () => {
    const output = service.stdout + service.stderr;
    expect(output.length).toBeGreaterThan(0);
    expect(output.includes(secret)).toBe(false);
    expect(output.includes(unknownSecret)).toBe(false);
    expect(output.match(SECRET_SHAPE)).toBeNull();
  });

  it('puts a request_id in every request log line, and logs every answered request', () => {
    const lines = service.stdout.split('\n').filter((line) => line.trim() !== '');
    const parsed = lines.map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return { unparsed: line };
      }
    });
    expect(parsed.filter((entry) => 'unparsed' in entry)).toEqual([]);
    const requestLines = parsed.filter((entry) => 'req' in entry || 'res' in entry || 'responseTime' in entry);
    expect(requestLines.length).toBeGreaterThan(100);
    expect(requestLines.filter((entry) => typeof entry.request_id !== 'string' || !/^req_[0-9a-f]{16,}$/.test(entry.request_id))).toEqual([]);
    const logged = new Set(requestLines.map((entry) => entry.request_id));
    const answered = [...outcomes, ...held].filter((o) => o.requestId && !o.problem);
    expect(answered.filter((o) => !logged.has(o.requestId)).map((o) => `${describeOutcome(o)} ${o.requestId}`)).toEqual([]);
    // A refusal is one line, its own request line, naming the error code.
    const refusals = requestLines.filter((entry) => (entry.res as { status?: number } | undefined)?.status === 401);
    expect(refusals.length).toBeGreaterThan(0);
    expect(new Set(refusals.map((entry) => (entry.res as { error_code?: string }).error_code))).toEqual(new Set(['INVALID_API_KEY']));
    expect(parsed.filter((entry) => entry.context === 'Errors')).toEqual([]);
  });
});

/** An outcome in a word, telling a refused new connection from a reset on a kept-alive one. */
function label(o: Outcome): string {
  if (isRefusedNewConnection(o)) return `refused: ${o.errorCode} (new connection)`;
  return `${describeOutcome(o)}${o.status === undefined ? (o.reusedSocket ? ' (kept-alive connection)' : ' (new connection)') : ''}`;
}

function shot(kind: Kind, n: number, secret: string, unknownSecret: string): Shot {
  switch (kind) {
    case 'read':
      return { kind, method: 'GET', path: '/v1/organization', key: secret };
    case 'write': {
      const name = `shutdown load ${n}`;
      return { kind, method: 'POST', path: '/v1/datasets', key: secret, body: { name }, tag: name };
    }
    case 'list':
      return { kind, method: 'GET', path: '/v1/datasets?limit=5', key: secret };
    case 'unknown-key':
      return { kind, method: 'GET', path: '/v1/organization', key: unknownSecret };
  }
}
