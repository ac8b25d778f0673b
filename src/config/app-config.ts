import { LeakResponse, Tier } from '../generated/prisma/enums';

/** Everything the service reads from its environment, parsed and validated once at start. */
export interface AppConfig {
  port: number;
  /** The service's address as its clients reach it (the OpenAPI document's server). */
  publicUrl: string;
  /** Unset → embedded PostgreSQL (PGlite) under `dataDir`. */
  databaseUrl?: string;
  /** One Redis server. Unset, and no `redisCluster` → in-process store (one instance only). */
  redisUrl?: string;
  /** Redis Cluster instead of one server (REDIS_CLUSTER_NODES); never together with `redisUrl`. */
  redisCluster?: RedisClusterConfig;
  dataDir: string;
  rateLimit: RateLimitPolicy;
  /** Keys an organization may hold that still work (not revoked, not expired); rotation may go one over. */
  maxActiveKeysPerOrganization: number;
  authFailureMax: number;
  stytch?: StytchConfig;
  upgradeUrl: string;
  dashboardOrigin: string;
  logLevel: LogLevel;
  metricsToken?: string;
  /** Fastify's `trustProxy`: which proxies may set X-Forwarded-For (the client IP of the brute-force brake). */
  trustProxy: boolean | string | number;
  /** How often counted usage moves from the store to PostgreSQL. */
  usageFlushIntervalMs: number;
  /** GitHub's secret-scanning public keys (`{public_keys: [...]}`), which sign its leak reports. */
  githubSecretScanningKeysUrl: string;
  /** When a key's hour of traffic is flagged as looking like a stolen key's. */
  usageSpike: UsageSpikePolicy;
  webhooks: WebhookConfig;
}

/** An hour is flagged when it exceeds multiplier × the key's baseline and reaches the floor (both). */
export interface UsageSpikePolicy {
  /** Requests in the hour vs. the key's mean busy hour. */
  multiplier: number;
  minRequests: number;
  /** Distinct client IPs in the hour vs. the key's mean hour. */
  ipMultiplier: number;
  minIps: number;
}

export interface WebhookConfig {
  /** AES-256-GCM key for the endpoints' signing secrets. Unset: embedded mode keeps one in DATA_DIR; PostgreSQL mode has no webhooks. */
  secretsKey?: Buffer;
  /** Lets endpoints point at private, loopback and other internal addresses, and use http: (tests, closed networks). */
  allowPrivateTargets: boolean;
  /** One attempt, connection included; a claimed delivery is leased for twice this. */
  timeoutMs: number;
  /** First retry delay; each further one doubles (with jitter), at most an hour. */
  backoffBaseMs: number;
  /** How long after the event a delivery is still attempted before it is given up. */
  maxAgeSeconds: number;
  /** Deliveries given up in a row that disable an endpoint. */
  disableAfterFailures: number;
  /** How often each instance looks for due deliveries. */
  pollIntervalMs: number;
}

export interface RedisClusterConfig {
  /** Seed nodes: the client learns the rest of the cluster from them. */
  nodes: { host: string; port: number }[];
  username?: string;
  password?: string;
  tls: boolean;
}

export interface RateLimitPolicy {
  max: number;
  windowSeconds: number;
}

export interface StytchConfig {
  projectId: string;
  secret: string;
  baseUrl?: string;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const TIERS: readonly Tier[] = ['free', 'standard', 'enterprise'];

/** An organization's choice for its keys found in public (see src/secret-scanning). */
export const LEAK_RESPONSES: readonly LeakResponse[] = ['revoke', 'notify'];

export const APP_CONFIG = Symbol('APP_CONFIG');
