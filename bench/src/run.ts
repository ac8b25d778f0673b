import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { TICKS_PER_SECOND, cpuSnapshot, otherShare, processTicks } from './cpu';
import { HostileResult, describeHostile, driveHostile, hostileBodies, renderHostile } from './hostile-body';
import { LocalJwks } from './jwks';
import { LoadResult, Scenario, drive } from './load';
import { createDatabase, databaseUrl, diffTables, dropDatabase, postgresInfo, tableCounters, transactions } from './postgres';
import {
  Child, errorLogTail, freePort, isRunning, memoryOf, runQuietly, sleep, startNode, stopAllChildren, stopChild, waitForHttp,
} from './processes';
import { CpuProfile, analyseProfile, renderProfile } from './profile-analysis';
import { clientList, commandCalls, diffCounts, monitorCommands, usedMemory } from './redis';
import { Machine, ResultsData, Stability, renderResults } from './report';
import type { Seed } from './seed';
import { BENCH_DIR, PROFILE_FILE, RESULTS_FILE, ROOT, Settings, TMP_DIR, readSettings, serviceNodeFlags } from './settings';

/**
 * `npm run bench`: builds the service, runs it on a throwaway PostgreSQL database and Redis db
 * beside a bare Fastify server, drives S0–S4 with autocannon in alternating rounds, counts the
 * work per request, watches memory, writes bench/RESULTS.md. `--profile` profiles S2 instead
 * and writes bench/PROFILE.md. Everything it starts or creates is removed when it ends.
 */

const startedAt = Date.now();
const RATE_LIMIT_MAX = '1000000';
const USAGE_FLUSH_SECONDS = 5; // the service's default USAGE_FLUSH_INTERVAL_MS
const CALIBRATION_REQUESTS = 100;
const JWT_LIFETIME_SECONDS = 2 * 60 * 60;
/** The usage flusher's keys: its commands (every 5 s, whatever the traffic) are not a request's. */
const USAGE_FLUSH_KEYS = /^lv:usage(:|$)/;
const MONITORING_COMMANDS = new Set(['info', 'client|list', 'client|setname', 'monitor', 'select', 'ping']);

function log(message: string): void {
  process.stdout.write(`[bench ${((Date.now() - startedAt) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);
}

export class Cleanup {
  private readonly steps: Array<[string, () => Promise<unknown>]> = [];

  add(name: string, step: () => Promise<unknown>): void {
    this.steps.push([name, step]);
  }

  async run(): Promise<void> {
    for (let next = this.steps.pop(); next; next = this.steps.pop()) {
      const [name, step] = next;
      try {
        await step();
      } catch (error) {
        process.stderr.write(`[bench] cleanup: ${name} failed: ${(error as Error).message}\n`);
      }
    }
  }
}

interface Member {
  memberId: string;
  stytchOrganizationId: string;
  slug: string;
}

export interface Environment {
  settings: Settings;
  machine: Machine;
  buildSeconds: number | null;
  redis: Redis;
  redisDb: number;
  databaseName: string;
  databaseUrl: string;
  jwks: LocalJwks;
  seed: Seed;
  members: Member[];
}

export async function prepare(settings: Settings, cleanup: Cleanup): Promise<Environment> {
  const redisDb = Number(new URL(settings.redisUrl).pathname.slice(1) || 0);
  if (redisDb === 0) throw new Error('The bench flushes its Redis database; give it one of its own (BENCH_REDIS_URL=redis://…/14), not db 0.');

  const pg = await postgresInfo(settings.adminDatabaseUrl).catch((error: Error) => {
    throw new Error(`PostgreSQL is not reachable at ${settings.adminDatabaseUrl}: ${error.message}`);
  });
  const redis = new Redis(settings.redisUrl, { lazyConnect: true, connectionName: 'lv-bench', maxRetriesPerRequest: 1 });
  await redis.connect().catch((error: Error) => {
    throw new Error(`Redis is not reachable at ${settings.redisUrl}: ${error.message}`);
  });
  cleanup.add('disconnect Redis', async () => redis.disconnect());
  const redisVersion = /^redis_version:(\S+)/m.exec(await redis.info('server'))?.[1] ?? '?';
  const cpus = os.cpus();
  const machine: Machine = {
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? '?',
    memoryGiB: os.totalmem() / 1024 ** 3,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres: pg.version,
    redis: redisVersion,
    statStatements: pg.statStatementsPreloaded
      ? 'preloaded, but the transaction counter is what is reported'
      : `${pg.statStatementsInstallable ? 'installed but' : 'not installed and'} not in shared_preload_libraries (a server restart would be needed), so transactions are counted instead`,
  };
  log(`machine: ${machine.cores} cores (${machine.cpuModel}), Node ${machine.node}, PostgreSQL ${machine.postgres}, Redis ${machine.redis}`);

  let buildSeconds: number | null = null;
  if (settings.build) {
    log('building the service (npm run -s build: prisma generate + tsc)…');
    const buildStart = Date.now();
    runQuietly('npm', ['run', '-s', 'build']);
    buildSeconds = (Date.now() - buildStart) / 1000;
    log(`built in ${buildSeconds.toFixed(1)} s`);
  } else if (!existsSync(path.join(ROOT, 'dist/main.js'))) {
    throw new Error('--no-build, but dist/main.js does not exist');
  }

  const databaseName = await createDatabase(settings.adminDatabaseUrl);
  cleanup.add(`drop database ${databaseName}`, () => dropDatabase(settings.adminDatabaseUrl, databaseName));
  const url = databaseUrl(settings.adminDatabaseUrl, databaseName);
  runQuietly(process.execPath, ['dist/cli/migrate.js'], { PATH: process.env.PATH, DATABASE_URL: url });
  log(`database ${databaseName} created and migrated`);

  await redis.flushdb();
  cleanup.add(`flush Redis db ${redisDb}`, () => redis.flushdb());

  const jwks = await LocalJwks.start();
  cleanup.add('stop the JWKS server', () => jwks.close());

  const seedFile = path.join(TMP_DIR, 'seed.json');
  const seedStart = Date.now();
  runQuietly(process.execPath, [path.join(BENCH_DIR, 'dist/seed.js'), seedFile, String(settings.organizations), String(settings.keysPerOrganization)], {
    PATH: process.env.PATH,
    DATABASE_URL: url,
    REDIS_URL: settings.redisUrl,
  });
  const seed = JSON.parse(readFileSync(seedFile, 'utf8')) as Seed;
  rmSync(seedFile); // it holds the keys' secrets
  log(`seeded ${seed.organizations.length} organizations and ${seed.keys.length} API keys in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);

  const members = Array.from({ length: settings.members }, (_, index): Member => {
    const organization = seed.organizations[index % seed.organizations.length];
    return { memberId: `member-test-bench-${index + 1}`, stytchOrganizationId: organization.stytchOrganizationId, slug: organization.name };
  });
  return { settings, machine, buildSeconds, redis, redisDb, databaseName, databaseUrl: url, jwks, seed, members };
}

export interface Servers {
  service: Child;
  bare: Child;
  serviceUrl: string;
  bareUrl: string;
  /** The processes under test, for telling their CPU from everything else's. */
  pids: number[];
  redisPid: number;
}

export async function startServers(env: Environment, cleanup: Cleanup, profileOut?: string, serviceRoot = ROOT): Promise<Servers> {
  const [servicePort, barePort] = [await freePort(), await freePort()];
  // Both servers run with the service's production Node flags: the ceiling is measured alike.
  const nodeFlags = serviceNodeFlags(serviceRoot);
  const bare = startNode('bare-fastify', [...nodeFlags, path.join(BENCH_DIR, 'dist/bare-server.js')], { PATH: process.env.PATH, PORT: String(barePort) });
  cleanup.add('stop the bare server', () => stopChild(bare));
  const serviceEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: String(servicePort),
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: env.settings.redisUrl,
    RATE_LIMIT_MAX,
    LOG_LEVEL: env.settings.logLevel,
    STYTCH_PROJECT_ID: env.jwks.projectId,
    STYTCH_SECRET: 'secret-test-bench',
    STYTCH_BASE_URL: env.jwks.url,
    ...(profileOut ? { BENCH_PROFILE_OUT: profileOut } : {}),
  };
  const main = path.join(serviceRoot, 'dist/main.js');
  const args = [...nodeFlags, ...(profileOut ? ['--require', path.join(BENCH_DIR, 'dist/profiler-preload.js')] : []), main];
  const name = serviceRoot === ROOT ? 'service' : `service-${path.basename(serviceRoot)}`;
  // BENCH_SERVICE_LOG=1 keeps the service's log (one line per request: large) in bench/tmp/, for debugging.
  const stdout = process.env.BENCH_SERVICE_LOG === '1' ? path.join(TMP_DIR, `${name}.log`) : undefined;
  const service = startNode(name, args, serviceEnv, stdout, serviceRoot);
  cleanup.add('stop the service', () => stopChild(service));
  const serviceUrl = `http://127.0.0.1:${servicePort}`;
  const bareUrl = `http://127.0.0.1:${barePort}`;
  await Promise.all([waitForHttp(`${serviceUrl}/readyz`, service), waitForHttp(`${bareUrl}/`, bare)]);
  log(`service (pid ${service.pid}) on :${servicePort}, bare Fastify (pid ${bare.pid}) on :${barePort}`);
  const redisPid = Number(/^process_id:(\d+)/m.exec(await env.redis.info('server'))?.[1] ?? 0);
  return { service, bare, serviceUrl, bareUrl, pids: [process.pid, service.pid, bare.pid, ...(redisPid ? [redisPid] : [])], redisPid };
}

async function call(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: string }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** drive(), plus how much CPU the rest of the machine took meanwhile. */
export async function driveObserved(servers: Servers, scenario: Scenario, connections: number, seconds: number): Promise<LoadResult> {
  const server = scenario.id === 'S0' ? servers.bare.pid : servers.service.pid;
  const before = {
    machine: cpuSnapshot(servers.pids),
    server: processTicks(server),
    redis: servers.redisPid ? processTicks(servers.redisPid) : 0,
    load: processTicks(process.pid),
  };
  const result = await drive(scenario, connections, seconds);
  const perResponse = (ticks: number) => (result.responses === 0 ? NaN : ((ticks / TICKS_PER_SECOND) * 1e6) / result.responses);
  return {
    ...result,
    otherCpu: otherShare(before.machine, cpuSnapshot(servers.pids)),
    serverCpuMicros: perResponse(processTicks(server) - before.server),
    redisCpuMicros: servers.redisPid ? perResponse(processTicks(servers.redisPid) - before.redis) : undefined,
    loadCpuMicros: perResponse(processTicks(process.pid) - before.load),
  };
}

/** Builds S0–S4; creates S3's key (1 request per hour) through the API and spends its one request. */
export async function buildScenarios(env: Environment, servers: Servers): Promise<Scenario[]> {
  const { serviceUrl, bareUrl } = servers;
  const created = await call(`${serviceUrl}/v1/api-keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${env.seed.keys[0].secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench over-limit key', rate_limit: { max: 1, window_seconds: 3600 } }),
  });
  if (created.status !== 201) throw new Error(`POST /v1/api-keys with rate_limit answered ${created.status}: ${created.body}`);
  const limitedKey = (JSON.parse(created.body) as { key: string }).key;
  const first = await call(`${serviceUrl}/v1/organization`, { headers: { authorization: `Bearer ${limitedKey}` } });
  if (first.status !== 200) throw new Error(`the over-limit key's first request answered ${first.status}: ${first.body}`);

  const tokens = await Promise.all(env.members.map((member) => env.jwks.mint(member, JWT_LIFETIME_SECONDS)));
  const get = (requestPath: string, credentials: string[] = []) =>
    credentials.length === 0
      ? [{ method: 'GET', path: requestPath }]
      : credentials.map((credential) => ({ method: 'GET', path: requestPath, headers: { authorization: `Bearer ${credential}` } }));
  const scenarios: Scenario[] = [
    { id: 'S0', title: 'bare Fastify, GET one JSON route', url: bareUrl, requests: get('/'), expectedStatus: 200 },
    { id: 'S1', title: 'service GET /healthz', url: serviceUrl, requests: get('/healthz'), expectedStatus: 200 },
    {
      id: 'S2',
      title: `GET /v1/organization, ${env.seed.keys.length} API keys`,
      url: serviceUrl,
      requests: get('/v1/organization', env.seed.keys.map((key) => key.secret)),
      expectedStatus: 200,
    },
    { id: 'S3', title: 'GET /v1/organization, one key over its limit', url: serviceUrl, requests: get('/v1/organization', [limitedKey]), expectedStatus: 429 },
    { id: 'S4', title: `GET /v1/organization, ${tokens.length} session JWTs`, url: serviceUrl, requests: get('/v1/organization', tokens), expectedStatus: 200 },
  ];

  // Every scenario answers what it should before anything is measured.
  for (const scenario of scenarios) {
    const request = scenario.requests[0];
    const answer = await call(`${scenario.url}${request.path}`, { headers: request.headers });
    if (answer.status !== scenario.expectedStatus) {
      throw new Error(`${scenario.id} preflight: expected ${scenario.expectedStatus}, got ${answer.status}: ${answer.body.slice(0, 300)}`);
    }
    if ((scenario.id === 'S2' || scenario.id === 'S3') && !answer.headers.get('x-ratelimit-limit')) {
      throw new Error(`${scenario.id} preflight: no X-RateLimit-Limit header`);
    }
  }
  log(`scenarios ready: ${scenarios.map((s) => `${s.id} (${s.requests.length} request${s.requests.length > 1 ? 's' : ''})`).join(', ')}`);
  return scenarios;
}

function assertUp(servers: Servers): void {
  for (const child of [servers.service, servers.bare]) {
    if (!isRunning(child)) throw new Error(`${child.name} died during the run:\n${errorLogTail(child)}`);
  }
}

function withoutMonitoring(delta: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(delta).filter(([name]) => !MONITORING_COMMANDS.has(name)));
}

function describeRun(result: LoadResult): string {
  const statuses = Object.entries(result.statuses).map(([code, n]) => `${n}×${code}`).join(' ');
  const other =
    (result.serverCpuMicros === undefined ? '' : `, server CPU ${result.serverCpuMicros.toFixed(0)} µs/req`) +
    (result.otherCpu === undefined ? '' : `, other processes ${(result.otherCpu * 100).toFixed(0)}% CPU`);
  return `${Math.round(result.rps)} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, max ${result.max.toFixed(1)} ms [${statuses}${result.errors ? ` ${result.errors} errors` : ''}]${other}`;
}

async function measure(env: Environment, cleanup: Cleanup): Promise<void> {
  const { settings, redis } = env;
  const servers = await startServers(env, cleanup);
  const scenarios = await buildScenarios(env, servers);
  const byId = (id: Scenario['id']) => scenarios.find((s) => s.id === id)!;

  const calibration: ResultsData['calibration'] = {};
  for (const id of ['S1', 'S2', 'S3', 'S4'] as const) {
    const scenario = byId(id);
    const seen = await monitorCommands(settings.redisUrl, env.redisDb, USAGE_FLUSH_KEYS, async () => {
      for (let index = 0; index < CALIBRATION_REQUESTS; index++) {
        const request = scenario.requests[index % scenario.requests.length];
        await call(`${scenario.url}${request.path}`, { headers: request.headers });
      }
    });
    calibration[id] = { ...seen, requests: CALIBRATION_REQUESTS };
  }
  log(`Redis calibration (MONITOR): S2 sends ${JSON.stringify(calibration.S2!.sent)} per ${CALIBRATION_REQUESTS} requests`);

  const rounds: LoadResult[][] = [];
  const underLoad: ResultsData['underLoad'] = {};
  const otherRedisClients = new Set<string>();
  for (let round = 0; round < settings.rounds; round++) {
    const order = scenarios.map((_, index) => scenarios[(index + round) % scenarios.length]);
    const results: LoadResult[] = [];
    for (const scenario of order) {
      // The first round warms the JIT up; later rounds only re-open connections.
      await drive(scenario, settings.connections, round === 0 ? settings.warmupSeconds : 1);
      const before = await commandCalls(redis);
      const result = await driveObserved(servers, scenario, settings.connections, settings.seconds);
      const delta = withoutMonitoring(diffCounts(before, await commandCalls(redis)));
      for (const client of await otherActiveClients(env, settings.seconds)) otherRedisClients.add(client);
      assertUp(servers);
      if (scenario.id !== 'S0') {
        const load = (underLoad[scenario.id] ??= { responses: 0, commands: {} });
        load.responses += result.responses;
        for (const [name, count] of Object.entries(delta)) load.commands[name] = (load.commands[name] ?? 0) + count;
      }
      results.push(result);
      log(`round ${round + 1}/${settings.rounds} ${scenario.id}: ${describeRun(result)}`);
    }
    rounds.push(results);
  }

  const hostile = await hostileRun(env, servers);
  const stability = await stabilityRun(env, servers, byId('S2'));
  const profileNote = existingProfileNote();
  const data: ResultsData = {
    date: new Date(),
    settings,
    machine: env.machine,
    buildSeconds: env.buildSeconds,
    totalSeconds: (Date.now() - startedAt) / 1000,
    seed: {
      organizations: env.seed.organizations.length,
      keys: env.seed.keys.length,
      members: env.members.length,
      tiers: [...new Set(env.seed.organizations.map((o) => o.tier))].join('/'),
    },
    scenarios,
    rounds,
    calibration,
    underLoad,
    otherRedisClients: [...otherRedisClients],
    stability,
    jwksDownloads: env.jwks.hits,
    profileNote,
    hostile,
  };
  const markdown = renderResults(data);
  // `npm run bench:cluster` keeps its own section of the file: carried over as it is
  const previous = existsSync(RESULTS_FILE) ? readFileSync(RESULTS_FILE, 'utf8') : '';
  const cluster = /<!-- cluster-capacity:start -->[\s\S]*<!-- cluster-capacity:end -->/.exec(previous)?.[0];
  writeFileSync(RESULTS_FILE, cluster ? `${markdown.trimEnd()}\n\n${cluster}\n` : markdown);
  writeFileSync(path.join(TMP_DIR, 'results.json'), JSON.stringify(data, null, 1)); // the raw figures, for a closer look
  process.stdout.write(`\n${markdown}\n`);
  log(`wrote ${path.relative(ROOT, RESULTS_FILE)}`);
}

/** H1–H2: `/healthz` while one key sends the costliest 1 MiB bodies (hostile-body.ts). */
async function hostileRun(env: Environment, servers: Servers): Promise<HostileResult[]> {
  const { settings, seed } = env;
  const results: HostileResult[] = [];
  for (const hostile of hostileBodies()) {
    log(`${hostile.id} ${hostile.title}: ${settings.hostileSeconds} s…`);
    const result = await driveHostile(servers.serviceUrl, servers.service.pid, hostile, seed.keys[0].secret, settings.hostileConnections, settings.hostileSeconds);
    assertUp(servers);
    log(`${hostile.id}: ${describeHostile(result)}`);
    results.push(result);
  }
  return results;
}

/** `--only=hostile-body`: H1–H2 alone; their section goes to stdout and bench/tmp/hostile-body.md. */
async function measureHostileOnly(env: Environment, cleanup: Cleanup): Promise<void> {
  const servers = await startServers(env, cleanup);
  const markdown = renderHostile(await hostileRun(env, servers), env.settings.hostileConnections);
  writeFileSync(path.join(TMP_DIR, 'hostile-body.md'), `${markdown}\n`);
  process.stdout.write(`\n${markdown}\n\n`);
  log(`wrote ${path.relative(ROOT, path.join(TMP_DIR, 'hostile-body.md'))}; RESULTS.md left as it was`);
}

/**
 * S2 for BENCH_STABILITY_SECONDS (60 s): RSS every second, Redis commands and PostgreSQL
 * transactions over the window. Stops the service at the end: its backends then flush their
 * statistics at once (and the shutdown's final usage flush belongs to this window's requests).
 */
async function stabilityRun(env: Environment, servers: Servers, scenario: Scenario): Promise<Stability> {
  const { settings, redis } = env;
  log(`S2 for ${settings.stabilitySeconds} s: memory, database and Redis counts…`);
  await drive(scenario, settings.connections, settings.warmupSeconds);
  const tablesBefore = await tableCounters(env.databaseUrl);
  await sleep(300);
  const transactionsBefore = await transactions(settings.adminDatabaseUrl, env.databaseName);
  const memoryBefore = await usedMemory(redis);
  const commandsBefore = await commandCalls(redis);
  const rssAtStart = memoryOf(servers.service.pid).rss;
  const windowStart = Date.now();
  const rss: Array<[number, number]> = [[0, rssAtStart]];
  const sampler = setInterval(() => {
    if (isRunning(servers.service)) rss.push([Math.round((Date.now() - windowStart) / 1000), memoryOf(servers.service.pid).rss]);
  }, 1000);
  let result: LoadResult;
  try {
    result = await driveObserved(servers, scenario, settings.connections, settings.stabilitySeconds);
  } finally {
    clearInterval(sampler);
  }
  const redisCommands = withoutMonitoring(diffCounts(commandsBefore, await commandCalls(redis)));
  const memoryAfter = await usedMemory(redis);
  const windowSeconds = (Date.now() - windowStart) / 1000;
  const otherRedisClients = await otherActiveClients(env, windowSeconds);
  assertUp(servers);
  const { peak } = memoryOf(servers.service.pid);
  const bareServerPeakRss = memoryOf(servers.bare.pid).peak;
  log(`S2 ${settings.stabilitySeconds} s: ${describeRun(result)}; peak RSS ${(peak / 1048576).toFixed(1)} MiB`);

  await stopChild(servers.service);
  await sleep(1000);
  const transactionsAfter = await transactions(settings.adminDatabaseUrl, env.databaseName);
  const tables = diffTables(tablesBefore, await tableCounters(env.databaseUrl));
  return {
    result,
    rss,
    rssAtStart,
    peakRss: peak,
    bareServerPeakRss,
    redisMemory: { before: memoryBefore, after: memoryAfter },
    postgres: { transactions: transactionsAfter - transactionsBefore, tables, flushIntervalSeconds: USAGE_FLUSH_SECONDS },
    redisCommands,
    otherRedisClients,
  };
}

/** Redis clients of other databases that sent a command within the last `seconds` (INFO commandstats counts theirs too). */
async function otherActiveClients(env: Environment, seconds: number): Promise<string[]> {
  return (await clientList(env.redis))
    .filter((client) => client.db !== env.redisDb && client.idle < seconds && client.cmd !== 'monitor')
    .map((client) => `db ${client.db} (${client.addr}, last \`${client.cmd}\`)`);
}

/** The subsystem table of the latest PROFILE.md, for RESULTS.md. */
function existingProfileNote(): string | null {
  if (!existsSync(PROFILE_FILE)) return null;
  const text = readFileSync(PROFILE_FILE, 'utf8');
  const start = text.indexOf('## By owner');
  const end = text.indexOf('\n## ', start + 1);
  const written = statSync(PROFILE_FILE).mtime.toISOString().slice(0, 16).replace('T', ' ');
  const header = text.split('\n').slice(2, 5).join('\n');
  // The owner table, cut to its first rows: the full one is in PROFILE.md.
  const section =
    start === -1
      ? ''
      : text
          .slice(start, end === -1 ? undefined : end)
          .replace('## By owner', '### By owner')
          .trim()
          .split('\n')
          .slice(0, 4 + 12)
          .join('\n');
  return `From [PROFILE.md](PROFILE.md) (last \`npm run bench -- --profile\`, ${written} UTC; a separate run, under the profiler):\n\n${header}\n\n${section.trim()}`;
}

export async function profile(env: Environment, cleanup: Cleanup, serviceRoot = ROOT): Promise<void> {
  const { settings } = env;
  const scenarioId = (process.env.BENCH_PROFILE_SCENARIO || 'S2') as Scenario['id'];
  const file = path.join(TMP_DIR, `${scenarioId.toLowerCase()}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
  const servers = await startServers(env, cleanup, file, serviceRoot);
  const scenarios = await buildScenarios(env, servers);
  const scenario = scenarios.find((s) => s.id === scenarioId);
  if (!scenario || scenario.id === 'S0') throw new Error(`BENCH_PROFILE_SCENARIO must be one of S1–S4 (got ${scenarioId})`);

  log(`profiling ${scenario.id}: warm-up…`);
  await drive(scenario, settings.connections, Math.max(5, settings.warmupSeconds * 2));
  servers.service.process.kill('SIGUSR2');
  await until(() => readFileSync(servers.service.errorLog, 'utf8').includes('profiler started'), 10_000, 'the profiler to start');
  const result = await driveObserved(servers, scenario, settings.connections, settings.profileSeconds);
  servers.service.process.kill('SIGUSR2');
  await until(() => readFileSync(servers.service.errorLog, 'utf8').includes('profile written'), 60_000, 'the profile to be written');
  log(`${scenario.id} under the profiler: ${describeRun(result)}`);

  const summary = analyseProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  const markdown = renderProfile(summary, {
    date: new Date(),
    scenario: `${scenario.id} (${scenario.title})`,
    seconds: result.seconds,
    requests: result.responses,
    rps: result.rps,
    p99: result.p99,
    intervalMicros: Number(process.env.BENCH_PROFILE_INTERVAL_US || 250),
    file: path.relative(ROOT, file),
    node: env.machine.node,
    cores: env.machine.cores,
  });
  writeFileSync(PROFILE_FILE, markdown);
  process.stdout.write(`\n${markdown}\n`);
  log(`wrote ${path.relative(ROOT, PROFILE_FILE)}`);
  if (existsSync(RESULTS_FILE)) {
    const results = readFileSync(RESULTS_FILE, 'utf8');
    const at = results.indexOf('\n## Profile\n');
    if (at !== -1) writeFileSync(RESULTS_FILE, `${results.slice(0, at)}\n## Profile\n\n${existingProfileNote()}\n`);
  }
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function main(): Promise<void> {
  let settings: Settings;
  try {
    settings = readSettings(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
  mkdirSync(TMP_DIR, { recursive: true });
  const cleanup = new Cleanup();
  cleanup.add('stop child processes', () => stopAllChildren());
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: cleaning up…`);
      void cleanup.run().finally(() => process.exit(130));
    });
  }
  try {
    const env = await prepare(settings, cleanup);
    if (settings.profile) await profile(env, cleanup);
    else if (settings.only === 'hostile-body') await measureHostileOnly(env, cleanup);
    else await measure(env, cleanup);
  } finally {
    if (!stopping) await cleanup.run();
  }
  log('done; databases dropped, Redis db flushed, child processes stopped');
}

if (require.main === module) {
  main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`[bench] failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
}
