import { ROOT } from './settings';

/** The V8 CPU profile format (.cpuprofile) as written by the inspector's Profiler.stop. */
export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
  }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface Frame {
  name: string;
  where: string;
  group: string;
  key: string;
  parent?: number;
}

export interface Row {
  label: string;
  where?: string;
  ms: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  busyMs: number;
  gcMs: number;
  /** Self time by package (node_modules), Node internals area, the app's own files, V8. */
  byGroup: Row[];
  topSelf: Row[];
  /** Busy time partitioned by owner (see OWNERS). */
  owners: Row[];
  /** The app's own functions (dist/) by inclusive time: synchronous parts only. */
  appInclusive: Row[];
}

/**
 * Owners: every sample is charged to the nearest frame on its stack that belongs to a package
 * or to the app's own code, so V8 builtins and Node internals count for whoever called them
 * (JSON.stringify under pino is logging; a socket write under Fastify's reply is Fastify).
 * Unlike inclusive time this partitions the busy time: middleware that calls `next()`
 * synchronously is not charged for everything downstream of it.
 */
const OWNERS: Array<[string, string[]]> = [
  ['logging: pino', ['pino', 'sonic-boom', 'pino-std-serializers', 'fast-redact', 'quick-format-unescaped', 'safe-stable-stringify', 'on-exit-leak-free', 'thread-stream', 'atomic-sleep']],
  ['Nest core (router, guards, pipes, exception zone)', ['@nestjs/core', '@nestjs/common', 'reflect-metadata', 'iterare', 'uid', 'tslib']],
  ['Nest Fastify adapter + middie', ['@nestjs/platform-fastify', '@fastify/middie', 'path-to-regexp', 'reusify']],
  ['Fastify (routing, hooks, reply)', ['fastify', 'find-my-way', 'avvio', 'light-my-request', 'fast-json-stringify', '@fastify/error', 'fastq', 'toad-cache', 'process-warning', 'abstract-logging', 'fast-content-type-parse', 'secure-json-parse', '@fastify/proxy-addr', 'proxy-addr', '@fastify/forwarded', 'forwarded', 'ipaddr.js', 'fastify-plugin', 'rfdc', 'fast-querystring', 'fast-decode-uri-component', 'ret', 'safe-regex2', '@fastify/fast-json-stringify-compiler', '@fastify/ajv-compiler']],
  ['security headers: @fastify/helmet, helmet', ['@fastify/helmet', 'helmet']],
  ['CORS: @fastify/cors', ['@fastify/cors']],
  ['interceptors: rxjs', ['rxjs']],
  ['Redis client: ioredis', ['ioredis', 'redis-parser', '@ioredis/commands', 'denque', 'standard-as-callback', 'cluster-key-slot', 'redis-errors']],
  ['metrics: prom-client', ['prom-client', 'tdigest', 'bintrees']],
  ['caches: lru-cache', ['lru-cache']],
  ['session JWT: stytch, jose', ['stytch', 'jose']],
  ['validation: class-validator, class-transformer', ['class-validator', 'class-transformer', 'validator', 'libphonenumber-js']],
];
const OWNER_OF_PACKAGE = new Map(OWNERS.flatMap(([label, packages]) => packages.map((pkg) => [pkg, label] as [string, string])));

const ROOT_URL = `file://${ROOT}/`;

function packageOf(url: string): string | undefined {
  const index = url.lastIndexOf('/node_modules/');
  if (index === -1) return undefined;
  const parts = url.slice(index + '/node_modules/'.length).split('/');
  return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

function describe(callFrame: CpuProfile['nodes'][number]['callFrame']): Omit<Frame, 'parent'> {
  const { functionName, url, lineNumber } = callFrame;
  const name = functionName || '(anonymous)';
  if (url === '') {
    const group = name.startsWith('(') ? name : '(V8 builtins / native)';
    return { name, where: '', group, key: `${name}@native` };
  }
  let where: string;
  let group: string;
  const pkg = packageOf(url);
  if (pkg) {
    const index = url.lastIndexOf(`/node_modules/${pkg}/`);
    where = `${pkg}/${url.slice(index + `/node_modules/${pkg}/`.length)}:${lineNumber + 1}`;
    group = pkg;
  } else if (url.startsWith('node:')) {
    where = `${url}:${lineNumber + 1}`;
    const module = url.slice(5).replace(/^internal\//, '').split('/')[0].replace(/^_http_\w+/, 'http');
    group = `node:${module}`;
  } else if (url.startsWith(ROOT_URL)) {
    where = `${url.slice(ROOT_URL.length)}:${lineNumber + 1}`;
    group = url.slice(ROOT_URL.length).startsWith('dist/') ? 'app (dist/)' : 'other project files';
  } else if (/^file:\/\/.*\/dist\//.test(url)) {
    // another checkout of the service (an A/B build outside this tree)
    where = `${url.slice(url.lastIndexOf('/dist/') + 1)}:${lineNumber + 1}`;
    group = 'app (dist/)';
  } else {
    where = `${url}:${lineNumber + 1}`;
    group = 'other';
  }
  return { name, where, group, key: `${name}@${where}` };
}

/** The owner a frame stands for, or undefined for Node internals and V8 (charged to their caller). */
function ownerOfFrame(frame: Frame & { url: string }): string | undefined {
  const pkg = packageOf(frame.url);
  if (pkg) return OWNER_OF_PACKAGE.get(pkg) ?? pkg;
  if (frame.group === 'app (dist/)') return `app: ${frame.where.split('/')[1]}/`;
  return undefined;
}

function sortRows(map: Map<string, Row>, limit: number): Row[] {
  return [...map.values()].sort((a, b) => b.ms - a.ms).slice(0, limit);
}

export function analyseProfile(profile: CpuProfile): ProfileSummary {
  const frames = new Map<number, Frame & { url: string }>();
  for (const node of profile.nodes) frames.set(node.id, { ...describe(node.callFrame), url: node.callFrame.url });
  for (const node of profile.nodes) for (const child of node.children ?? []) frames.get(child)!.parent = node.id;

  // Sample i lasts until sample i+1 (timeDeltas[i+1], µs); the last one gets the mean.
  const deltas = profile.timeDeltas;
  const meanDelta = deltas.length > 1 ? deltas.slice(1).reduce((a, b) => a + b, 0) / (deltas.length - 1) : 0;
  const duration = (i: number): number => (i + 1 < deltas.length ? deltas[i + 1] : meanDelta) / 1000;

  const self = new Map<string, Row>();
  const groups = new Map<string, Row>();
  const owners = new Map<string, Row>();
  const appInclusive = new Map<string, Row>();
  let totalMs = 0;
  let idleMs = 0;
  let gcMs = 0;

  // Per node, once: its owner and the app functions on its stack.
  const ownerOfNode = new Map<number, string>();
  const appKeysOfNode = new Map<number, string[]>();
  const walk = (id: number): void => {
    let owner: string | undefined;
    const app = new Set<string>();
    for (let cursor: number | undefined = id; cursor !== undefined; cursor = frames.get(cursor)!.parent) {
      const frame = frames.get(cursor)!;
      owner ??= ownerOfFrame(frame);
      if (frame.group === 'app (dist/)') app.add(frame.key);
    }
    const leaf = frames.get(id)!;
    ownerOfNode.set(id, owner ?? (leaf.group.startsWith('node:') ? `Node internals, no package on the stack (${leaf.group})` : leaf.group));
    appKeysOfNode.set(id, [...app]);
  };
  const add = (map: Map<string, Row>, key: string, ms: number, make: () => Row): void => {
    const row = map.get(key) ?? make();
    row.ms += ms;
    map.set(key, row);
  };

  profile.samples.forEach((id, index) => {
    const ms = duration(index);
    totalMs += ms;
    const frame = frames.get(id)!;
    if (frame.name === '(idle)') {
      idleMs += ms;
      return;
    }
    if (frame.name === '(garbage collector)') gcMs += ms;
    add(self, frame.key, ms, () => ({ label: frame.name, where: frame.where, ms: 0 }));
    add(groups, frame.group, ms, () => ({ label: frame.group, ms: 0 }));
    if (!ownerOfNode.has(id)) walk(id);
    const owner = ownerOfNode.get(id)!;
    add(owners, owner, ms, () => ({ label: owner, ms: 0 }));
    for (const key of appKeysOfNode.get(id)!) {
      add(appInclusive, key, ms, () => ({ label: key.split('@')[0], where: key.slice(key.indexOf('@') + 1), ms: 0 }));
    }
  });

  return {
    totalMs,
    idleMs,
    busyMs: totalMs - idleMs,
    gcMs,
    byGroup: sortRows(groups, 20),
    topSelf: sortRows(self, 30),
    owners: sortRows(owners, 40),
    appInclusive: sortRows(appInclusive, 20),
  };
}

export interface ProfileContext {
  date: Date;
  scenario: string;
  seconds: number;
  requests: number;
  rps: number;
  p99: number;
  intervalMicros: number;
  file: string;
  node: string;
  cores: number;
}

/** PROFILE.md: where the service's main thread spends its time per request. */
export function renderProfile(summary: ProfileSummary, context: ProfileContext): string {
  const perRequest = (ms: number) => ((ms * 1000) / context.requests).toFixed(1);
  const share = (ms: number) => `${((ms / summary.busyMs) * 100).toFixed(1)}%`;
  const table = (rows: Row[], withWhere: boolean): string[] => [
    withWhere ? '| function | where | ms | % of busy | µs/request |' : '| what | ms | % of busy | µs/request |',
    withWhere ? '|---|---|---:|---:|---:|' : '|---|---:|---:|---:|',
    ...rows.map((row) =>
      withWhere
        ? `| \`${row.label}\` | ${row.where || '—'} | ${row.ms.toFixed(0)} | ${share(row.ms)} | ${perRequest(row.ms)} |`
        : `| ${row.label} | ${row.ms.toFixed(0)} | ${share(row.ms)} | ${perRequest(row.ms)} |`,
    ),
  ];
  return [
    `# Admission-path profile — ${context.scenario}`,
    '',
    `Written by \`npm run bench -- --profile\` on ${context.date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} ` +
      `(Node ${context.node}, ${context.cores} cores). V8 sampling profiler in the service's main thread, ${context.intervalMicros} µs interval, ` +
      `started after warm-up and stopped after ${context.seconds.toFixed(0)} s of ${context.scenario} at ${fmt(context.rps)} req/s ` +
      `(${fmt(context.requests)} requests, p99 ${context.p99.toFixed(2)} ms, under the profiler). Raw profile: \`${context.file}\` ` +
      '(open in Chrome DevTools or speedscope for a flame graph).',
    '',
    `Main thread: ${summary.totalMs.toFixed(0)} ms sampled, **${summary.busyMs.toFixed(0)} ms busy** ` +
      `(${((summary.busyMs / summary.totalMs) * 100).toFixed(0)}%; ${perRequest(summary.busyMs)} µs of CPU per request), ` +
      `idle ${summary.idleMs.toFixed(0)} ms, garbage collection ${summary.gcMs.toFixed(0)} ms (${share(summary.gcMs)} of busy). ` +
      'The profiler samples wall time: system-call frames (`writev`, `writeUtf8String`…) include time the thread waited in the kernel ' +
      'for a core it shares with Redis and the load generator, so they weigh more here than in the CPU per request of RESULTS.md; ' +
      "V8's concurrent GC threads are not in this profile at all.",
    '',
    '## By owner (busy time partitioned: Node and V8 work charged to the package or app file that called it)',
    '',
    ...table(summary.owners, false),
    '',
    '## Self time by package / area',
    '',
    ...table(summary.byGroup.slice(0, 15), false),
    '',
    '## Top functions by self time',
    '',
    ...table(summary.topSelf, true),
    '',
    "## The app's own functions by inclusive time (synchronous part; awaited work runs later under the microtask queue)",
    '',
    ...table(summary.appInclusive, true),
    '',
  ].join('\n');
}

function fmt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}
