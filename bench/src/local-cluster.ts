import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { redisReplies, until } from './raw-redis';

const run = promisify(execFile);

/**
 * A real Redis Cluster on this machine: 3 primaries with one replica each, `redis-server`
 * processes on private ports, made with `redis-cli --cluster create`. Nothing is kept on disk
 * but the nodes' own cluster files, in a temp folder removed by `stop()`.
 */
export interface LocalCluster {
  /** The seed list, as REDIS_CLUSTER_NODES takes it. */
  nodes: string;
  ports: number[];
  /** The primary serving `slot` now, by port (asks the cluster). */
  primaryOf(slot: number): Promise<number>;
  /** Kills one node the hard way (SIGKILL: no goodbye to its peers). */
  kill(port: number): void;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** How long a silent primary may stay before its replica takes over (`cluster-node-timeout`). */
  nodeTimeoutMs?: number;
}

export async function startLocalCluster(options: ClusterOptions = {}): Promise<LocalCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lv-cluster-'));
  const ports = await freeClusterPorts(6);
  const servers = new Map<number, ChildProcess>();
  const stop = async () => {
    for (const server of servers.values()) server.kill('SIGKILL');
    await Promise.all([...servers.values()].map((server) => (server.exitCode === null && server.signalCode === null ? new Promise((r) => server.once('exit', r)) : null)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const server: ChildProcess = spawn(
        'redis-server',
        [
          '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
          '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
          '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1000),
          // a shard down must not stop the others (the default refuses every slot then)
          '--cluster-require-full-coverage', 'no',
          // replicas copy their primary at once (a replica that never synced cannot take over)
          '--repl-diskless-sync-delay', '0',
          '--save', '', '--appendonly', 'no', '--logfile', `redis-${port}.log`,
        ],
        { stdio: 'ignore' },
      );
      servers.set(port, server);
      // a crashed test run must not leave servers behind
      process.once('exit', () => server.kill('SIGKILL'));
    }
    await Promise.all(ports.map((port) => until(`redis-server on ${port}`, () => redisReplies(port, 'PING', '+PONG'), 10_000)));
    await run('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '1', '--cluster-yes']);
    // Every node must agree the cluster is whole before a client is pointed at it.
    await Promise.all(ports.map((port) => until(`cluster state ok on ${port}`, () => redisReplies(port, 'CLUSTER INFO', 'cluster_state:ok'), 20_000)));
    // …and every replica has its primary's data: only then can it take over.
    const replicas = [];
    for (const port of ports) if (await redisReplies(port, 'INFO replication', 'role:slave')) replicas.push(port);
    if (replicas.length !== ports.length / 2) throw new Error(`Expected ${ports.length / 2} replicas, found ${replicas.length}`);
    await Promise.all(replicas.map((port) => until(`replica ${port} in sync`, () => redisReplies(port, 'INFO replication', 'master_link_status:up'), 20_000)));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodes: ports.map((port) => `127.0.0.1:${port}`).join(','),
    ports,
    primaryOf: (slot) => primaryOf(ports.filter((port) => servers.get(port)?.exitCode === null && servers.get(port)?.signalCode === null), slot),
    kill: (port) => servers.get(port)?.kill('SIGKILL'),
    stop,
  };
}

/** The primary serving `slot`, as the first node that answers says (`CLUSTER NODES`; failed ones skipped). */
async function primaryOf(alive: number[], slot: number): Promise<number> {
  for (const port of alive) {
    try {
      const { stdout } = await run('redis-cli', ['-p', String(port), 'CLUSTER', 'NODES']);
      // <id> <ip:port@bus> <flags> <primary> <ping> <pong> <epoch> <link> <slot ranges…>
      for (const line of stdout.trim().split('\n')) {
        const [, address, flags, , , , , , ...ranges] = line.split(' ');
        if (!flags.split(',').includes('master') || flags.includes('fail')) continue;
        const owns = ranges.some((range) => {
          const [start, end = start] = range.split('-').map(Number);
          return start <= slot && slot <= end;
        });
        if (owns) return Number(address.split('@')[0].split(':')[1]);
      }
    } catch {
      // that node is gone: ask the next
    }
  }
  throw new Error(`No node knows the primary of slot ${slot}`);
}

/** `count` ports whose cluster bus ports (port + 10000) are free as well. */
async function freeClusterPorts(count: number): Promise<number[]> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 25000);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    const free = await Promise.all(ports.flatMap((port) => [isFree(port), isFree(port + 10000)]));
    if (free.every(Boolean)) return ports;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
