import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { TICKS_PER_SECOND, processTicks } from './cpu';
import { LocalCluster, startLocalCluster } from './local-cluster';
import { Scenario, drive } from './load';
import { createDatabase, databaseUrl, dropDatabase } from './postgres';
import { Child, freePort, runQuietly, startNode, stopAllChildren, stopChild, waitForHttp } from './processes';
import type { Seed } from './seed';
import { BENCH_DIR, RESULTS_FILE, ROOT, TMP_DIR, distPath, serviceNodeFlags } from './settings';
import { median } from './stats';

/**
 * `npm run bench:cluster`: the admission path on one Redis and on a local Redis Cluster (3
 * primaries, 3 replicas) in the same run — two services on one database, driven in alternating
 * rounds — and the store's capacity figures: Redis CPU per admission, memory per active key at
 * three limits, the cost of a usage drain. Writes its section of bench/RESULTS.md.
 */

const ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379/14';
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
const SECONDS = Number(process.env.BENCH_SECONDS || 7);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 50);
/**
 * Other checkouts of the service, built (`npm run -s build` there), comma-separated, each
 * `[label=]path`: each measured beside this one on one Redis.
 */
const BASELINES = (process.env.BENCH_BASELINE ?? '').split(',').filter(Boolean).map((entry) => {
  const [label, dir] = entry.includes('=') ? entry.split('=', 2) : [undefined, entry];
  return { label, root: path.resolve(dir) };
});
const MARK_START = '<!-- cluster-capacity:start -->';
const MARK_END = '<!-- cluster-capacity:end -->';

/** The service's own parts, from dist/ (built first). */
function service(relative: string) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(distPath(relative));
}

function log(message: string): void {
  process.stdout.write(`[bench:cluster] ${message}\n`);
}

interface Drain {
  label: string;
  keys: number;
  ms: number;
  batches: number;
  transactions: number;
}

interface Throughput {
  rps: number[];
  p99: number[];
  /** CPU time of the service process per response, µs: the figure contention moves least. */
  serviceCpuMicros: number[];
  redisCpuMicros: number[];
}

async function main(): Promise<void> {
  if (!process.argv.includes('--no-build')) runQuietly('npm', ['run', '-s', 'build']);
  const redis = new Redis(REDIS_URL);
  const redisPid = Number(/^process_id:(\d+)/m.exec(await redis.info('server'))?.[1]);
  await redis.flushdb();
  const name = await createDatabase(ADMIN_URL);
  const url = databaseUrl(ADMIN_URL, name);
  let cluster: LocalCluster | undefined;
  try {
    runQuietly(process.execPath, ['dist/cli/migrate.js'], { PATH: process.env.PATH, DATABASE_URL: url });
    cluster = await startLocalCluster({ nodeTimeoutMs: 5000 });
    const primaries = await clusterPrimaryPids(cluster);
    const seedFile = path.join(TMP_DIR, 'capacity-seed.json');
    runQuietly(process.execPath, [path.join(BENCH_DIR, 'dist/seed.js'), seedFile, '8', '40'], { PATH: process.env.PATH, DATABASE_URL: url, REDIS_URL });
    const seed = JSON.parse(readFileSync(seedFile, 'utf8')) as Seed;
    rmSync(seedFile);

    log('driving the admission path on one Redis and on the cluster, alternating…');
    const throughput = await compareThroughput(url, cluster, seed, redisPid, primaries);
    log('measuring the store on one Redis: CPU per admission, memory per key, drain cost…');
    const scriptCost = await admissionCost(redis, redisPid);
    const memory = [];
    for (const limit of [100, 1000, 10_000]) memory.push({ limit, bytes: await memoryPerKey(redis, limit) });
    const drains = [
      await drainCost({ kind: 'single', url: REDIS_URL }, url, 'one Redis'),
      await drainCost({ kind: 'cluster', cluster: { nodes: cluster.nodes.split(',').map(node), tls: false } }, url, 'cluster (1,024 buckets)'),
    ];
    writeSection(render(throughput, scriptCost, memory, drains));
    log(`written to ${path.relative(ROOT, RESULTS_FILE)}`);
  } finally {
    await stopAllChildren();
    await cluster?.stop();
    await redis.flushdb();
    redis.disconnect();
    await dropDatabase(ADMIN_URL, name);
  }
}

function node(address: string): { host: string; port: number } {
  const [host, port] = address.split(':');
  return { host, port: Number(port) };
}

async function clusterPrimaryPids(cluster: LocalCluster): Promise<number[]> {
  const pids = [];
  for (const slot of [0, 8000, 16000]) {
    const client = new Redis(await cluster.primaryOf(slot), '127.0.0.1');
    pids.push(Number(/^process_id:(\d+)/m.exec(await client.info('server'))?.[1]));
    client.disconnect();
  }
  return pids;
}

/** Two services on one database, one on each store, driven in alternating rounds: the same machine load for both. */
async function compareThroughput(url: string, cluster: LocalCluster, seed: Seed, redisPid: number, primaries: number[]): Promise<Record<string, Throughput>> {
  const targets: Record<string, { root: string; env: Record<string, string> }> = {
    single: { root: ROOT, env: { REDIS_URL } },
    cluster: { root: ROOT, env: { REDIS_CLUSTER_NODES: cluster.nodes } },
    ...Object.fromEntries(BASELINES.map(({ root }, n) => [`baseline ${n + 1}`, { root, env: { REDIS_URL } }])),
  };
  const services = new Map<string, { url: string; child: Child }>();
  const results: Record<string, Throughput> = {};
  for (const [label, { root, env }] of Object.entries(targets)) {
    const port = await freePort();
    const child = startNode(`capacity-${label}`, [...serviceNodeFlags(root), path.join(root, 'dist/main.js')], {
      PATH: process.env.PATH, PORT: String(port), DATABASE_URL: url, RATE_LIMIT_MAX: '1000000', LOG_LEVEL: 'warn', TRUST_PROXY: 'true', ...env,
    }, undefined, root);
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, child);
    services.set(label, { url: `http://127.0.0.1:${port}`, child });
    results[label] = { rps: [], p99: [], serviceCpuMicros: [], redisCpuMicros: [] };
  }
  // each key from 8 client addresses (X-Forwarded-For, trusted): the distinct-IP count has work to do
  const requests = seed.keys.flatMap((key, k) =>
    Array.from({ length: 8 }, (_, n) => ({
      method: 'GET' as const,
      path: '/v1/organization',
      headers: { authorization: `Bearer ${key.secret}`, 'x-forwarded-for': `10.${k >> 8}.${k & 255}.${n + 1}` },
    })));
  for (let round = 0; round < ROUNDS + 1; round++) {
    for (const [label, { url: serviceUrl, child }] of services) {
      const scenario: Scenario = { id: 'S2', title: `GET /v1/organization with an API key (${label})`, url: serviceUrl, requests, expectedStatus: 200 };
      const pids = label === 'cluster' ? primaries : [redisPid];
      const before = pids.reduce((sum, pid) => sum + processTicks(pid), 0);
      const serviceBefore = processTicks(child.pid);
      const load = await drive(scenario, CONNECTIONS, round === 0 ? 2 : SECONDS);
      const ticks = pids.reduce((sum, pid) => sum + processTicks(pid), 0) - before;
      const serviceTicks = processTicks(child.pid) - serviceBefore;
      if (load.expectedShare < 0.999) throw new Error(`${label}: only ${(load.expectedShare * 100).toFixed(1)}% answered 200 (${JSON.stringify(load.statuses)})`);
      if (round === 0) continue; // warm-up
      const result = results[label];
      result.rps.push(load.rps);
      result.p99.push(load.p99);
      result.redisCpuMicros.push(((ticks / TICKS_PER_SECOND) * 1e6) / load.responses);
      result.serviceCpuMicros.push(((serviceTicks / TICKS_PER_SECOND) * 1e6) / load.responses);
      log(`round ${round} ${label}: ${load.rps.toFixed(0)} req/s, p99 ${load.p99.toFixed(1)} ms, service CPU ${result.serviceCpuMicros.at(-1)!.toFixed(0)} µs/request`);
    }
  }
  for (const { child } of services.values()) await stopChild(child);
  return results;
}

/** Redis CPU per admission script, from a client that keeps 256 scripts in flight (the server saturated). */
async function admissionCost(redis: Redis, pid: number): Promise<{ micros: number; usecPerCall: number; perSecond: number }> {
  await redis.flushdb();
  await redis.config('RESETSTAT');
  const sha = (await redis.script('LOAD', service('store/admit.script.js').ADMIT_SCRIPT)) as string;
  await redis.hset('lv:o:org_bench', 'tier', 'standard');
  const total = 200_000;
  let sent = 0;
  const before = processTicks(pid);
  const started = Date.now();
  const worker = async () => {
    while (sent < total) {
      const n = sent++;
      const key = `key_bench${n % 2000}`;
      await redis.hset(`lv:k:${key}`, 'rv', '0', 'ex', '0', 'lm', '0', 'lw', '0').then(() => undefined, () => undefined);
      await redis.evalsha(sha, 5, `lv:k:${key}`, 'lv:o:org_bench', `lv:rl:k:${key}`, 'lv:usage:bench', `lv:ips:${key}:0`, 1_000_000, 60_000, `req_${n}`, '1', '1', key, `10.0.${n % 8}.1`, 3_600_000);
    }
  };
  await Promise.all(Array.from({ length: 256 }, worker));
  const seconds = (Date.now() - started) / 1000;
  const cpuSeconds = (processTicks(pid) - before) / TICKS_PER_SECOND;
  const stats = await redis.info('commandstats');
  const usecPerCall = Number(/^cmdstat_evalsha:calls=\d+,usec=\d+,usec_per_call=([\d.]+)/m.exec(stats)?.[1]);
  // Each script is preceded by an HSET (the key's state, as a live key has it). Only the HSET's own
  // execution time is taken off: its share of the network I/O stays in, so the figure errs high.
  const hsetUsec = Number(/^cmdstat_hset:calls=\d+,usec=\d+,usec_per_call=([\d.]+)/m.exec(stats)?.[1]);
  const micros = (cpuSeconds * 1e6) / total - hsetUsec;
  log(`admission: ${usecPerCall} µs in the script, ${micros.toFixed(1)} µs of Redis CPU with I/O (${(total / seconds).toFixed(0)} scripts/s from this client)`);
  await redis.flushdb();
  return { micros, usecPerCall, perSecond: 1e6 / micros };
}

/** used_memory growth per key whose sliding log is full at `limit` per 60 s, with its state, tier and usage. */
async function memoryPerKey(redis: Redis, limit: number): Promise<number> {
  await redis.flushdb();
  const sha = (await redis.script('LOAD', service('store/admit.script.js').ADMIT_SCRIPT)) as string;
  const keys = Math.max(20, Math.floor(200_000 / limit));
  const before = await usedMemory(redis);
  for (let first = 0; first < keys; first += 20) {
    const pipeline = redis.pipeline();
    for (let k = first; k < Math.min(first + 20, keys); k++) {
      const key = `key_${String(k).padStart(28, '0')}`;
      const organization = `lv:o:org_${String(k % 10).padStart(28, '0')}`;
      pipeline.hset(`lv:k:${key}`, 'rv', '0', 'ex', '0', 'lm', '0', 'lw', '0');
      pipeline.hset(organization, 'tier', 'standard');
      for (let n = 0; n < limit; n++) {
        pipeline.evalsha(sha, 5, `lv:k:${key}`, organization, `lv:rl:k:${key}`, 'lv:usage:bench', `lv:ips:${key}:0`, limit, 60_000, `req_${k}_${n}_0123456789abcdef`, '1', '1', key, `10.0.${n % 8}.1`, 3_600_000);
      }
    }
    await pipeline.exec();
  }
  const bytes = ((await usedMemory(redis)) - before) / keys;
  log(`memory at ${limit}/min: ${bytes.toFixed(0)} bytes per active key (${keys} keys)`);
  await redis.flushdb();
  return bytes;
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1]);
}

/** One drain of every seeded key's pending usage (one minute each) into PostgreSQL, through the service's own store and repository. */
async function drainCost(target: object, url: string, label: string): Promise<Drain> {
  const store = new (service('store/redis-admission.store.js').RedisAdmissionStore)(target, `capacity${Date.now()}`);
  await store.connected(5000);
  const database = await service('database/connect-database.js').connectDatabase({ databaseUrl: url, dataDir: '' });
  const usage = new (service('api-keys/usage/usage.repository.js').UsageRepository)(database.prisma);
  try {
    const keyIds = (await database.prisma.apiKey.findMany({ select: { id: true }, take: 2000 })).map((key: { id: string }) => key.id);
    for (let start = 0; start < keyIds.length; start += 200) {
      await Promise.all(keyIds.slice(start, start + 200).map((id: string, n: number) =>
        store.admit({ subject: `k:${id}`, entry: `req_${start + n}`, max: 1_000_000, windowMs: 60_000, usageKeyId: id, clientIp: '10.0.0.1' })));
    }
    let batches = 0;
    let transactions = 0;
    const started = process.hrtime.bigint();
    await store.drainUsage(async (drained: unknown[]) => {
      batches += drained.length;
      transactions++;
      await usage.add(drained);
    });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    log(`drain (${label}): ${keyIds.length} keys, ${batches} batches, ${transactions} transactions, ${ms.toFixed(0)} ms`);
    return { label, keys: keyIds.length, ms, batches, transactions };
  } finally {
    await store.close();
    await database.close();
  }
}

function render(
  throughput: Record<string, Throughput>,
  cost: { micros: number; usecPerCall: number; perSecond: number },
  memory: { limit: number; bytes: number }[],
  drains: Drain[],
): string {
  const single = throughput.single;
  const clustered = throughput.cluster;
  const row = (label: string, t: Throughput) =>
    `| ${label} | ${median(t.rps).toFixed(0)} | ${(median(t.rps) / median(single.rps)).toFixed(2)}× | ${median(t.p99).toFixed(1)} | ` +
    `${median(t.serviceCpuMicros).toFixed(0)} | ${median(t.redisCpuMicros).toFixed(1)} |`;
  const cpus = os.cpus();
  return [
    MARK_START,
    '## Redis Cluster and the store\'s capacity (`npm run bench:cluster`)',
    '',
    `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus.length} cores (${cpus[0]?.model.trim()}), Node ${process.version}; ` +
      `the service and the load generator share the machine with Redis, so the service process is the bottleneck, not Redis.`,
    '',
    `Admission path (S2: \`GET /v1/organization\` with 320 API keys, each from 8 client addresses (\`X-Forwarded-For\`, trusted), ${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${SECONDS} s, medians):`,
    '',
    '| store | req/s | vs one Redis | p99 ms | service CPU per request, µs | Redis CPU per request, µs |',
    '|---|---:|---:|---:|---:|---:|',
    row('one Redis', single),
    row('Redis Cluster, 3 primaries + 3 replicas', clustered),
    ...BASELINES.map(({ label, root }, n) => row(`one Redis, ${label ?? 'earlier build'} (${commitOf(root)})`, throughput[`baseline ${n + 1}`])),
    '',
    `One admission script: **${cost.usecPerCall.toFixed(2)} µs** inside Redis (\`usec_per_call\`), **${cost.micros.toFixed(1)} µs** of Redis CPU with its network I/O ` +
      `→ one Redis core sustains about **${Math.round(cost.perSecond / 1000)} k admissions/s**.`,
    '',
    '| limit per 60 s | Redis memory per active key (state, tier, full sliding log, usage, 8 client IPs of the hour) |',
    '|---:|---:|',
    ...memory.map((m) => `| ${m.limit.toLocaleString('en-US')} | ${formatBytes(m.bytes)} |`),
    '',
    '| one usage drain (one request of each key pending) | keys | wall time | batches | PostgreSQL transactions |',
    '|---|---:|---:|---:|---:|',
    ...drains.map((d) => `| ${d.label} | ${d.keys} | ${d.ms.toFixed(0)} ms | ${d.batches} | ${d.transactions} |`),
    MARK_END,
  ].join('\n');
}

/** A checkout's commit, for the table. */
function commitOf(root: string): string {
  return spawnSync('git', ['-C', root, 'log', '-1', '--format=%h'], { encoding: 'utf8' }).stdout.trim() || path.basename(root);
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes.toFixed(0)} B`;
}

/** Replaces this bench's section of RESULTS.md (or appends it); the rest is `npm run bench`'s. */
function writeSection(section: string): void {
  const current = readFileSync(RESULTS_FILE, 'utf8');
  const start = current.indexOf(MARK_START);
  const end = current.indexOf(MARK_END);
  const next = start >= 0 && end > start ? current.slice(0, start) + section + current.slice(end + MARK_END.length) : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(RESULTS_FILE, next);
}

main().catch((error) => {
  process.stderr.write(`[bench:cluster] ${(error as Error).stack}\n`);
  process.exitCode = 1;
});
