import Redis, { Cluster, RedisOptions } from 'ioredis';
import type { RedisClusterConfig } from '../config/app-config';

/** One Redis server (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES). */
export type RedisTarget = { kind: 'single'; url: string } | { kind: 'cluster'; cluster: RedisClusterConfig };

export type RedisClient = Redis | Cluster;

/**
 * Commands fail fast while their server is away (no offline queue, one retry): a request then
 * answers 503 instead of hanging, and the connection heals by itself.
 */
const FAIL_FAST: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 2000,
  retryStrategy: (attempt: number) => Math.min(attempt * 100, 1000),
};

/**
 * The connection admission commands go through. On a cluster: fail fast as on one server, and
 * learn the new layout soon after a failover (slots re-read every second while they move, and on
 * every redirection), reading and writing primaries only — a replica may lag a revocation.
 */
export function commandClient(target: RedisTarget): RedisClient {
  // No auto-pipelining: it holds each EVALSHA until the next tick and builds a pipeline per batch;
  // measured (bench/RESULTS.md) at ~20% fewer admitted requests per second than writing at once.
  if (target.kind === 'single') return new Redis(target.url, FAIL_FAST);
  const { nodes, username, password, tls } = target.cluster;
  return new Cluster(nodes, {
    enableOfflineQueue: false,
    scaleReads: 'master',
    slotsRefreshTimeout: 1000,
    slotsRefreshInterval: 1000,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    retryDelayOnMoved: 0,
    maxRedirections: 8,
    clusterRetryStrategy: (attempt: number) => Math.min(attempt * 100, 1000),
    redisOptions: { ...FAIL_FAST, username, password, tls: tls ? {} : undefined },
  });
}

/**
 * A fresh connection for the event subscription, to `node` of the target: it does not reconnect
 * by itself — the event channel decides where to go next (on a cluster, another node: classic
 * pub/sub reaches every node of a cluster).
 */
export function subscriberConnection(target: RedisTarget, node?: { host: string; port: number }): Redis {
  const options: RedisOptions = { enableOfflineQueue: true, maxRetriesPerRequest: null, connectTimeout: 2000, retryStrategy: () => null };
  if (target.kind === 'single') return new Redis(target.url, options);
  const { username, password, tls } = target.cluster;
  const { host, port } = node ?? target.cluster.nodes[0];
  return new Redis({ ...options, host, port, username, password, tls: tls ? {} : undefined });
}

/** The nodes a subscriber may use now: what the cluster client knows, else the seeds. */
export function subscriberNodes(target: RedisTarget, commands: RedisClient): { host: string; port: number }[] {
  if (target.kind === 'single' || !(commands instanceof Cluster)) return [];
  const known = commands.nodes('all').map((node) => ({ host: node.options.host!, port: node.options.port! }));
  return known.length > 0 ? known : target.cluster.nodes;
}
