import { Agent, request } from 'node:http';
import autocannon from 'autocannon';
import { TICKS_PER_SECOND, processTicks } from './cpu';
import { LatencyRecorder } from './stats';

/**
 * H1–H2: one authenticated client sends the costliest bodies that fit in 1 MiB, back to back,
 * while `/healthz` is asked one request at a time: how long an innocent request waits for the
 * event loop the bodies hold. (Before the body-shape budget, H1's body blocked the process 17 s.)
 */

export interface HostileBody {
  id: 'H1' | 'H2';
  title: string;
  path: string;
  body: string;
}

export interface LatencySummary {
  count: number;
  /** Requests that failed (a kept-alive connection closed under them after the wait); counted in the latencies. */
  errors: number;
  p50: number;
  p99: number;
  max: number;
}

export interface HostileResult {
  id: HostileBody['id'];
  title: string;
  path: string;
  bytes: number;
  seconds: number;
  bodies: number;
  statuses: Record<string, number>;
  /** CPU time of the service per body sent, ms. */
  serverCpuMs: number;
  /** `/healthz` while the bodies were sent, and alone just before. */
  healthz: LatencySummary;
  idle: LatencySummary;
}

const ONE_MIB = 1024 * 1024;

/** `{"k0":1,…}` filling `bytes`, after `prefix` members, with at most `most` members. */
function wideObject(bytes: number, key: (index: number) => string, value: string, prefix = '', most = Infinity): string {
  const members: string[] = [];
  let size = prefix.length + 2;
  for (let index = 0; index < most; index++) {
    const member = `"${key(index)}":${value}`;
    if (size + member.length + 1 > bytes) break;
    members.push(member);
    size += member.length + 1;
  }
  return `{${prefix}${members.join(',')}}`;
}

export function hostileBodies(): HostileBody[] {
  const under = ONE_MIB - 512;
  return [
    {
      id: 'H1',
      title: '115,000 unknown keys (the body that blocked for 17 s)',
      path: '/v1/datasets',
      body: wideObject(under, (index) => `k${index.toString(36)}`, '1', '"name":"hostile",'),
    },
    {
      id: 'H2',
      // the costliest body of the fuzz suite's worst cases: the most keys the budget lets through, long ones, to parse and check
      title: '9,999 unknown keys of 60 characters (the costliest the budget lets through)',
      path: '/v1/datasets',
      body: wideObject(under, (index) => `${'u'.repeat(60)}${index}`, `"${'v'.repeat(30)}"`, '"name":"hostile",', 9_999),
    },
  ];
}

/** `/healthz`, one request at a time on one kept-alive connection, for `seconds`. */
async function probeHealthz(serviceUrl: string, seconds: number): Promise<LatencySummary> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies = new LatencyRecorder();
  const url = new URL('/healthz', serviceUrl);
  const deadline = Date.now() + seconds * 1000;
  let errors = 0;
  try {
    while (Date.now() < deadline) {
      const started = performance.now();
      const answered = await new Promise<boolean>((resolve) => {
        request(url, { agent }, (response) => {
          response.resume();
          response.on('end', () => resolve(true));
        })
          .on('error', () => resolve(false))
          .end();
      });
      // a failure is a wait too: the caller learned nothing until then
      latencies.add(performance.now() - started);
      if (!answered) errors += 1;
    }
  } finally {
    agent.destroy();
  }
  const { count, p50, p99, max } = latencies.summary();
  return { count, errors, p50, p99, max };
}

export async function driveHostile(serviceUrl: string, servicePid: number, hostile: HostileBody, key: string, connections: number, seconds: number): Promise<HostileResult> {
  const idle = await probeHealthz(serviceUrl, Math.min(3, seconds));
  const ticksBefore = processTicks(servicePid);
  const load = autocannon({
    url: serviceUrl,
    connections,
    duration: seconds,
    timeout: 30,
    requests: [{ method: 'POST', path: hostile.path, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: hostile.body }],
  });
  const [result, healthz] = await Promise.all([load, probeHealthz(serviceUrl, seconds)]);
  const bodies = result.requests.total;
  return {
    id: hostile.id,
    title: hostile.title,
    path: hostile.path,
    bytes: Buffer.byteLength(hostile.body),
    seconds: result.duration,
    bodies,
    statuses: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count])),
    serverCpuMs: bodies === 0 ? NaN : ((processTicks(servicePid) - ticksBefore) / TICKS_PER_SECOND) * 1000 / bodies,
    healthz,
    idle,
  };
}

export function describeHostile(result: HostileResult): string {
  const statuses = Object.entries(result.statuses).map(([code, count]) => `${count}×${code}`).join(' ');
  const failed = result.healthz.errors > 0 ? `, ${result.healthz.errors} failed` : '';
  return `${result.bodies} bodies [${statuses}], ${result.serverCpuMs.toFixed(1)} ms server CPU each; /healthz ×${result.healthz.count}${failed}: p50 ${result.healthz.p50.toFixed(1)} ms, p99 ${result.healthz.p99.toFixed(1)} ms, max ${result.healthz.max.toFixed(1)} ms (alone: p99 ${result.idle.p99.toFixed(1)} ms)`;
}

/** The section of the report: one row per body. */
export function renderHostile(results: HostileResult[], connections: number): string {
  const rows = results.map((result) => {
    const statuses = Object.entries(result.statuses).map(([code, count]) => `${count.toLocaleString('en-US')}×${code}`).join(' ');
    const failed = result.healthz.errors > 0 ? ` (${result.healthz.errors} failed)` : '';
    return `| ${result.id} | ${result.title} (\`POST ${result.path}\`) | ${(result.bytes / 1024).toFixed(0)} KiB | ${(result.bodies / result.seconds).toFixed(1)} (${statuses}) | ${result.serverCpuMs.toFixed(1)} | ${result.healthz.count}${failed} | ${result.healthz.p50.toFixed(1)} | ${result.healthz.p99.toFixed(1)} | ${result.healthz.max.toFixed(1)} | ${result.idle.p50.toFixed(1)} / ${result.idle.p99.toFixed(1)} |`;
  });
  return [
    '## Hostile bodies: how long /healthz waits meanwhile',
    '',
    `${connections} connection${connections === 1 ? '' : 's'} of one API key send the body back to back while \`GET /healthz\` is asked one request at a time; latencies in ms. Every body is refused (400) — what matters is how long it holds the event loop.`,
    '',
    '| | body | size | bodies/s (statuses) | server CPU ms per body | /healthz answered | p50 | p99 | max | /healthz alone p50 / p99 |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}
