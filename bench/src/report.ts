import { HostileResult, renderHostile } from './hostile-body';
import type { LoadResult, Scenario } from './load';
import type { TableCounters } from './postgres';
import type { MonitoredCommands } from './redis';
import { ROOT, Settings, serviceNodeFlags } from './settings';
import { median } from './stats';

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  postgres: string;
  redis: string;
  statStatements: string;
}

export interface Stability {
  result: LoadResult;
  /** [seconds since the measured window began, RSS bytes] */
  rss: Array<[number, number]>;
  rssAtStart: number;
  peakRss: number;
  bareServerPeakRss: number;
  redisMemory: { before: number; after: number };
  postgres: { transactions: number; tables: Record<string, TableCounters>; flushIntervalSeconds: number };
  redisCommands: Record<string, number>;
  otherRedisClients: string[];
}

export interface ResultsData {
  date: Date;
  settings: Settings;
  machine: Machine;
  buildSeconds: number | null;
  totalSeconds: number;
  seed: { organizations: number; keys: number; members: number; tiers: string };
  scenarios: Scenario[];
  rounds: LoadResult[][];
  calibration: Partial<Record<Scenario['id'], MonitoredCommands & { requests: number }>>;
  underLoad: Partial<Record<Scenario['id'], { responses: number; commands: Record<string, number> }>>;
  /** Clients of other Redis databases active during the rounds' windows. */
  otherRedisClients: string[];
  stability: Stability;
  jwksDownloads: number;
  profileNote: string | null;
  /** H1–H2 (hostile-body.ts). */
  hostile: HostileResult[];
}

const fmtInt = (value: number): string => Math.round(value).toLocaleString('en-US');
const fmtMs = (value: number): string => value.toFixed(2);
const fmtRatio = (value: number): string => `${value.toFixed(2)}×`;
const fmtMiB = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;
const perRequest = (count: number, requests: number): string => (requests === 0 ? '—' : (count / requests).toFixed(count / requests < 0.01 && count > 0 ? 5 : 3));

interface Aggregate {
  cpu: number;
  redisCpu: number;
  loadCpu: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  ratio: { cpu: number; rps: number; p50: number; p99: number; max: number };
  responses: number;
  statuses: Record<string, number>;
  errors: number;
  expectedShare: number;
}

/** Medians over rounds; each ratio is taken against S0 of the same round first, then its median. */
/** The usage flusher's transactions per flush: the batches, then the stolen-key analysis (see below). */
const TRANSACTIONS_PER_FLUSH = 4;

export function aggregate(rounds: LoadResult[][], id: Scenario['id']): Aggregate {
  const runs = rounds.map((round) => ({ own: round.find((r) => r.scenario === id)!, base: round.find((r) => r.scenario === 'S0')! }));
  const statuses: Record<string, number> = {};
  for (const { own } of runs) for (const [code, count] of Object.entries(own.statuses)) statuses[code] = (statuses[code] ?? 0) + count;
  const responses = runs.reduce((sum, { own }) => sum + own.responses, 0);
  return {
    cpu: median(runs.map(({ own }) => own.serverCpuMicros ?? NaN)),
    redisCpu: median(runs.map(({ own }) => own.redisCpuMicros ?? NaN)),
    loadCpu: median(runs.map(({ own }) => own.loadCpuMicros ?? NaN)),
    rps: median(runs.map(({ own }) => own.rps)),
    p50: median(runs.map(({ own }) => own.p50)),
    p99: median(runs.map(({ own }) => own.p99)),
    max: Math.max(...runs.map(({ own }) => own.max)),
    ratio: {
      cpu: median(runs.map(({ own, base }) => (own.serverCpuMicros ?? NaN) / (base.serverCpuMicros ?? NaN))),
      rps: median(runs.map(({ own, base }) => own.rps / base.rps)),
      p50: median(runs.map(({ own, base }) => own.p50 / base.p50)),
      p99: median(runs.map(({ own, base }) => own.p99 / base.p99)),
      max: median(runs.map(({ own, base }) => own.max / base.max)),
    },
    responses,
    statuses,
    errors: runs.reduce((sum, { own }) => sum + own.errors + own.timeouts, 0),
    expectedShare: runs.reduce((sum, { own }) => sum + own.expectedShare * own.responses, 0) / Math.max(1, responses),
  };
}

function commandsLine(commands: Record<string, number>, requests: number, limit = 12): string {
  const entries = Object.entries(commands).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return 'none';
  return entries
    .slice(0, limit)
    .map(([name, count]) => `\`${name}\` ${perRequest(count, requests)}`)
    .join(', ') + (entries.length > limit ? ', …' : '');
}

export function evaluateTargets(data: ResultsData): Array<{ target: string; measured: string; met: boolean }> {
  const s2 = aggregate(data.rounds, 'S2');
  const s3 = aggregate(data.rounds, 'S3');
  const s4 = aggregate(data.rounds, 'S4');
  const { stability } = data;
  const window = stability.result.seconds;
  const expectedFlushes = Math.ceil(window / stability.postgres.flushIntervalSeconds) + 2;
  // A flush writes its batches (one transaction), then judges the key-hours it wrote for stolen-key
  // use: the hours' distinct IPs, new hours' baselines, the figures (one statement each, set-based,
  // whatever the traffic). A fixed number per flush, never one per request.
  const flushTransactions = expectedFlushes * TRANSACTIONS_PER_FLUSH;
  const calibration = data.calibration.S2;
  const scriptCalls = calibration ? ((calibration.sent.evalsha ?? 0) + (calibration.sent.eval ?? 0)) / calibration.requests : NaN;
  const otherCalls = calibration
    ? Object.entries(calibration.sent).filter(([name]) => name !== 'evalsha' && name !== 'eval').reduce((sum, [, n]) => sum + n, 0) / calibration.requests
    : NaN;
  const tables = stability.postgres.tables;
  const requestPathScans =
    (tables.organizations?.idx_scan ?? 0) + (tables.organizations?.seq_scan ?? 0) + (tables.api_keys?.indexes.api_keys_key_hash_key ?? 0);
  const rssGrowth = rssGrowthSummary(stability);
  return [
    { target: 'S2 throughput ≥ 0.35× S0', measured: fmtRatio(s2.ratio.rps), met: s2.ratio.rps >= 0.35 },
    { target: 'S2 p99 ≤ 15 ms at 50 connections', measured: `${fmtMs(s2.p99)} ms`, met: s2.p99 <= 15 },
    {
      target: 'S2: 0 database queries per request',
      measured:
        `${stability.postgres.transactions} transactions over ${fmtInt(stability.result.responses)} requests in ${window.toFixed(0)} s ` +
        `(the usage flusher's: ≤ ${TRANSACTIONS_PER_FLUSH} per flush, ${flushTransactions} in all); ${requestPathScans} reads of organizations or of api_keys by key hash`,
      met: stability.postgres.transactions <= flushTransactions && requestPathScans === 0,
    },
    {
      target: 'S2: exactly 1 Redis round trip per request',
      measured: `${scriptCalls.toFixed(3)} script calls + ${otherCalls.toFixed(3)} other commands per request`,
      met: Math.abs(scriptCalls - 1) <= 0.01 && otherCalls <= 0.01,
    },
    {
      target: 'S3 (429) at least as fast as S2',
      measured: `${fmtInt(s3.rps)} vs ${fmtInt(s2.rps)} req/s (${fmtRatio(s3.rps / s2.rps)}); server CPU ${s3.cpu.toFixed(0)} vs ${s2.cpu.toFixed(0)} µs/req`,
      met: s3.rps >= s2.rps,
    },
    {
      target: 'S4 (session JWT) within 20% of S2',
      measured: `${fmtInt(s4.rps)} vs ${fmtInt(s2.rps)} req/s (${fmtRatio(s4.rps / s2.rps)}); server CPU ${s4.cpu.toFixed(0)} vs ${s2.cpu.toFixed(0)} µs/req`,
      met: s4.rps >= 0.8 * s2.rps,
    },
    { target: 'RSS stable over the 60 s run', measured: rssGrowth.text, met: rssGrowth.stable },
  ];
}

/** Stable: the last 10 s average no more than 5% (and 8 MiB) above the first 10 s average. */
function rssGrowthSummary(stability: Stability): { text: string; stable: boolean } {
  const first = stability.rss.filter(([t]) => t < 10).map(([, rss]) => rss);
  const last = stability.rss.filter(([t]) => t >= stability.result.seconds - 10).map(([, rss]) => rss);
  const a = first.reduce((s, v) => s + v, 0) / Math.max(1, first.length);
  const b = last.reduce((s, v) => s + v, 0) / Math.max(1, last.length);
  const growth = b - a;
  return {
    text: `first 10 s ${fmtMiB(a)}, last 10 s ${fmtMiB(b)} (${growth >= 0 ? '+' : ''}${(growth / 1048576).toFixed(1)} MiB, ${((growth / a) * 100).toFixed(1)}%)`,
    stable: growth <= Math.max(0.05 * a, 8 * 1048576),
  };
}

export function renderResults(data: ResultsData): string {
  const { settings, machine, stability } = data;
  const lines: string[] = [];
  const push = (...more: string[]) => lines.push(...more);
  const ids = data.scenarios.map((s) => s.id);

  push(
    '# Admission-path benchmark — results',
    '',
    `Written by \`npm run bench\` on ${data.date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} (run took ${data.totalSeconds.toFixed(0)} s` +
      `${data.buildSeconds !== null ? `, build ${data.buildSeconds.toFixed(0)} s` : ', build skipped'}). Figures are from one run on one machine; ` +
      'ratios to S0 are what carries over between machines.',
    '',
    `**Machine:** ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB.toFixed(1)} GiB, ${machine.os}; Node ${machine.node}; ` +
      `PostgreSQL ${machine.postgres}; Redis ${machine.redis}. Load generator, service, bare server, PostgreSQL and Redis share these cores.`,
    '',
    `**Load:** autocannon (programmatic), ${settings.connections} connections, keep-alive, no pipelining; per scenario a warm-up (${settings.warmupSeconds} s in the first round, 1 s later) then ` +
      `${settings.seconds} s measured, ${settings.rounds} round(s) with the scenario order rotated each round. Latency percentiles are exact ` +
      '(every response time recorded); a figure below is the median over rounds, `max` the largest, and each ×S0 ratio the median of the per-round ratios.',
    '',
    `**Service:** \`node ${serviceNodeFlags(ROOT).join(' ')} dist/main.js\` (as \`npm run serve\`; bare Fastify with the same flags) on PostgreSQL + Redis (db ${new URL(settings.redisUrl).pathname.slice(1) || 0}), ` +
      `LOG_LEVEL=${settings.logLevel} (stdout to /dev/null: serialisation is paid, terminal I/O is not), RATE_LIMIT_MAX=1000000 per 60 s; ` +
      `${data.seed.organizations} organizations (${data.seed.tiers}) with ${data.seed.keys} API keys; ${data.seed.members} members with session JWTs (RS256, local JWKS).`,
    '',
    '## Throughput and latency',
    '',
    '| scenario | req/s | ×S0 | p50 ms | ×S0 | p99 ms | ×S0 | max ms | ×S0 | server CPU µs/req | ×S0 | Redis CPU µs/req | responses (status) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  );
  for (const scenario of data.scenarios) {
    const a = aggregate(data.rounds, scenario.id);
    const statuses = Object.entries(a.statuses).map(([code, n]) => `${fmtInt(n)} × ${code}`).join(', ');
    const flags = a.expectedShare < 0.999 || a.errors > 0 ? ` ⚠ expected ${scenario.expectedStatus}; ${a.errors} errors` : '';
    push(
      `| **${scenario.id}** ${scenario.title} | ${fmtInt(a.rps)} | ${fmtRatio(a.ratio.rps)} | ${fmtMs(a.p50)} | ${fmtRatio(a.ratio.p50)} | ` +
        `${fmtMs(a.p99)} | ${fmtRatio(a.ratio.p99)} | ${fmtMs(a.max)} | ${fmtRatio(a.ratio.max)} | ` +
        `${a.cpu.toFixed(0)} | ${fmtRatio(a.ratio.cpu)} | ${scenario.id === 'S0' ? '—' : a.redisCpu.toFixed(1)} | ${statuses}${flags} |`,
    );
  }
  push(
    '',
    '*Server CPU* is the CPU time (user + system, every thread) the server under test — bare Fastify for S0, the service otherwise — ' +
      'spent per response, from /proc. It moves much less than req/s with what else runs on the machine (contention still inflates it, ' +
      'through caches and scheduling, by up to about a third on this one), so its ×S0 is the steadier measure of what the service costs ' +
      'over the ceiling. *Redis CPU* is redis-server\'s.',
  );
  const others = data.rounds.flat().map((r) => r.otherCpu ?? 0);
  const busiest = Math.max(...others, stability.result.otherCpu ?? 0);
  push(
    '',
    `Other processes on the machine used ${(median(others) * 100).toFixed(0)}% of its CPU during the median measured window (at most ${(busiest * 100).toFixed(0)}%).` +
      (median(others) > 0.1
        ? ' ⚠ **The machine was not quiet: req/s and latencies are pessimistic, CPU per request somewhat; compare ratios, not absolutes.**'
        : busiest > 0.2
          ? ' Windows marked ⚠ under "Every round" shared the machine with more than 20% of foreign load; a comparison resting on them is weaker.'
          : ''),
  );
  push(
    '',
    `The ${stability.result.seconds.toFixed(0)} s S2 run (memory and counts, below): ${fmtInt(stability.result.rps)} req/s, ` +
      `p50 ${fmtMs(stability.result.p50)} ms, p99 ${fmtMs(stability.result.p99)} ms, max ${fmtMs(stability.result.max)} ms.`,
    '',
    '## Targets',
    '',
    '| target | measured | met |',
    '|---|---|---|',
    ...evaluateTargets(data).map(({ target, measured, met }) => `| ${target} | ${measured} | ${met ? 'yes' : '**no**'} |`),
    '',
    ...machineBudget(data),
    '',
    '## Work per request',
    '',
    '### Redis',
    '',
    'Round trips, from `MONITOR` during a sequential calibration (100 requests per scenario, no other load; only the bench database; ' +
      'MONITOR tells commands a client sent from those a Lua script ran inside Redis). The usage flusher (keys `lv:usage*`, every 5 s ' +
      'whatever the traffic) is counted apart:',
    '',
    '| scenario | sent by the service, per request | run inside the admission script, per request | usage flusher during the calibration |',
    '|---|---|---|---|',
  );
  for (const id of ids) {
    const calibration = data.calibration[id];
    if (!calibration) continue;
    const background = Object.entries(calibration.background).map(([name, n]) => `\`${name}\` ×${n}`).join(', ') || 'none';
    push(`| ${id} | ${commandsLine(calibration.sent, calibration.requests)} | ${commandsLine(calibration.inScripts, calibration.requests)} | ${background} |`);
  }
  push(
    '',
    '`INFO commandstats` deltas under load (server-wide; script-internal commands included), per response:',
    '',
    '| scenario | commands per response |',
    '|---|---|',
  );
  for (const id of ids) {
    const load = data.underLoad[id];
    if (load) push(`| ${id} (rounds) | ${commandsLine(load.commands, load.responses, 14)} |`);
  }
  push(`| S2 (${stability.result.seconds.toFixed(0)} s run) | ${commandsLine(stability.redisCommands, stability.result.responses, 14)} |`);
  if (data.otherRedisClients.length > 0 || stability.otherRedisClients.length > 0) {
    const all = [...new Set([...data.otherRedisClients, ...stability.otherRedisClients])];
    push(
      '',
      `⚠ Clients of other Redis databases were active during measured windows, and their commands are in these server-wide deltas ` +
        `(the MONITOR calibration above is not affected): ${all.slice(0, 6).join('; ')}${all.length > 6 ? '; …' : ''}.`,
    );
  }
  const tables = Object.entries(stability.postgres.tables);
  push(
    '',
    '### PostgreSQL',
    '',
    `Over the ${stability.result.seconds.toFixed(0)} s S2 run (${fmtInt(stability.result.responses)} requests): ` +
      `**${stability.postgres.transactions} transactions** in the bench database (\`pg_stat_database\` xact_commit + xact_rollback; ` +
      `each autocommit statement is one), i.e. ${perRequest(stability.postgres.transactions, stability.result.responses)} per request. ` +
      `The usage flusher writes one batch transaction every ${stability.postgres.flushIntervalSeconds} s and one more at shutdown. ` +
      `pg_stat_statements: ${machine.statStatements}.`,
    '',
    tables.length === 0
      ? 'No table was read or written.'
      : `Table access in the window: ${tables
          .map(([table, c]) => {
            const byIndex = Object.entries(c.indexes).map(([name, n]) => `${name} ${n}`).join(', ');
            return `\`${table}\` (${c.idx_scan} index scans${byIndex ? ` [${byIndex}]` : ''}, ${c.seq_scan} seq scans, ${c.inserted} inserted, ${c.updated} updated)`;
          })
          .join('; ')}. A request reading its key or organization from PostgreSQL would scan \`api_keys_key_hash_key\` or \`organizations\`; ` +
        'the usage flusher inserts into `api_key_usage` and updates `api_keys` by primary key.',
    '',
    '## Memory (service)',
    '',
    `Peak RSS (VmHWM) at the end of the run: **${fmtMiB(stability.peakRss)}** (bare Fastify: ${fmtMiB(stability.bareServerPeakRss)}). ` +
      `RSS when the ${stability.result.seconds.toFixed(0)} s S2 run began (after all rounds): ${fmtMiB(stability.rssAtStart)}. ` +
      `Redis used_memory ${fmtMiB(stability.redisMemory.before)} → ${fmtMiB(stability.redisMemory.after)} (sliding logs of a 60 s window at ~${fmtInt(stability.result.rps)} req/s).`,
    '',
    `RSS during the run, every 5 s (${rssGrowthSummary(stability).text}):`,
    '',
    '| s | ' + stability.rss.filter(([t]) => t % 5 === 0).map(([t]) => String(t)).join(' | ') + ' |',
    '|---|' + stability.rss.filter(([t]) => t % 5 === 0).map(() => '---:').join('|') + '|',
    '| MiB | ' + stability.rss.filter(([t]) => t % 5 === 0).map(([, rss]) => (rss / 1048576).toFixed(1)).join(' | ') + ' |',
    '',
    `JWKS downloads by the service during the whole run: ${data.jwksDownloads} (cached after the first).`,
    '',
    renderHostile(data.hostile, data.settings.hostileConnections),
    '',
    '## Every round',
    '',
    '| round | scenario | req/s | p50 ms | p90 ms | p99 ms | max ms | responses | errors | server CPU µs/req | other processes\' CPU |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  data.rounds.forEach((round, index) => {
    for (const r of round) {
      push(
        `| ${index + 1} | ${r.scenario} | ${fmtInt(r.rps)} | ${fmtMs(r.p50)} | ${fmtMs(r.p90)} | ${fmtMs(r.p99)} | ${fmtMs(r.max)} | ` +
          `${fmtInt(r.responses)} | ${r.errors + r.timeouts} | ${r.serverCpuMicros?.toFixed(0) ?? '—'} | ` +
          `${r.otherCpu === undefined ? '—' : `${(r.otherCpu * 100).toFixed(0)}%${r.otherCpu > 0.2 ? ' ⚠' : ''}`} |`,
      );
    }
  });
  push('', '## Profile', '', data.profileNote ?? 'No profile yet: `npm run bench -- --profile` profiles S2 and writes bench/PROFILE.md.', '');
  return lines.join('\n');
}

/**
 * The service, Redis and the load generator share the machine's cores, so the CPU all three
 * spend per response bounds req/s whatever the service does: cores × 10⁶ µs ÷ their sum.
 */
function machineBudget(data: ResultsData): string[] {
  const { cores } = data.machine;
  const rows = data.scenarios.map((scenario) => {
    const a = aggregate(data.rounds, scenario.id);
    const redis = scenario.id === 'S0' ? 0 : a.redisCpu;
    const sum = a.cpu + redis + a.loadCpu;
    const ceiling = (cores * 1e6) / sum;
    return (
      `| ${scenario.id} | ${a.cpu.toFixed(0)} | ${scenario.id === 'S0' ? '—' : redis.toFixed(0)} | ${a.loadCpu.toFixed(0)} | ${sum.toFixed(0)} | ` +
      `${fmtInt(ceiling)} | ${fmtInt(a.rps)} (${((a.rps / ceiling) * 100).toFixed(0)}%) |`
    );
  });
  const [s0, s2] = [aggregate(data.rounds, 'S0'), aggregate(data.rounds, 'S2')];
  const target = 0.35 * s0.rps;
  const allowed = (cores * 1e6) / target;
  const others = s2.redisCpu + s2.loadCpu;
  return [
    '### Where the machine\'s CPU goes',
    '',
    `CPU per response in µs, by process (medians over rounds). The ${cores} cores give ${cores} × 10⁶ µs a second, so the sum bounds ` +
      'req/s whatever the service does. The load generator is the bench process itself (autocannon and latency recording); it parses ' +
      'every response, so it pays for the service\'s headers too.',
    '',
    '| scenario | server under test | Redis | load generator | sum | ceiling req/s (cores ÷ sum) | measured req/s (share of ceiling) |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `For S2 to reach 0.35× S0 (${fmtInt(target)} req/s) the three may spend ${allowed.toFixed(0)} µs per response together. Redis and the ` +
      `load generator took ${others.toFixed(0)}, which leaves the service ${Math.max(0, allowed - others).toFixed(0)} µs; it spent ` +
      `${s2.cpu.toFixed(0)} (${fmtRatio(s2.cpu / s0.cpu)} bare Fastify's ${s0.cpu.toFixed(0)}). Where it goes: [PROFILE.md](PROFILE.md).`,
  ];
}
