import { isIP } from 'node:net';
import { AppConfig, LOG_LEVELS, LogLevel, RedisClusterConfig } from './app-config';

export class ConfigError extends Error {}

/** Where GitHub publishes the keys that sign its secret-scanning reports. */
const GITHUB_SECRET_SCANNING_KEYS_URL = 'https://api.github.com/meta/public_keys/secret_scanning';

type Env = Record<string, string | undefined>;

/**
 * Parses the environment into an AppConfig. Empty values count as unset. Every bad variable is
 * reported at once, each by name, so an operator fixes them in one go.
 */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };
  const decimal = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || value < min || value > max) {
      problems.push(`${name} must be a number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if (raw !== 'true' && raw !== 'false') problems.push(`${name} must be true or false (got "${raw}")`);
    return raw === 'true';
  };
  const url = (name: string, protocols: string[], fallback?: string): string | undefined => {
    const raw = read(name) ?? fallback;
    if (raw === undefined) return undefined;
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) throw new Error();
    } catch {
      problems.push(`${name} must be a ${protocols.join(' or ')}// URL`);
    }
    return raw;
  };

  const logLevel = (read('LOG_LEVEL') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const stytchProjectId = read('STYTCH_PROJECT_ID');
  const stytchSecret = read('STYTCH_SECRET');
  if (Boolean(stytchProjectId) !== Boolean(stytchSecret)) {
    problems.push('STYTCH_PROJECT_ID and STYTCH_SECRET must be set together');
  }
  const stytchBaseUrl = url('STYTCH_BASE_URL', ['http:', 'https:']);
  const port = int('PORT', 3000, 0, 65535);
  const redisUrl = url('REDIS_URL', ['redis:', 'rediss:']);
  const redisCluster = parseRedisCluster(read, problems);
  if (redisUrl && redisCluster) problems.push('REDIS_URL and REDIS_CLUSTER_NODES cannot both be set: choose one Redis server or a cluster');

  const config: AppConfig = {
    port,
    // Where clients reach this service: the `servers` entry of the OpenAPI document.
    publicUrl: url('PUBLIC_URL', ['http:', 'https:'], `http://localhost:${port}`)!.replace(/\/+$/, ''),
    databaseUrl: url('DATABASE_URL', ['postgresql:', 'postgres:']),
    redisUrl,
    redisCluster,
    dataDir: read('DATA_DIR') ?? '.data',
    rateLimit: {
      max: int('RATE_LIMIT_MAX', 100, 1, 1_000_000),
      windowSeconds: int('RATE_LIMIT_WINDOW_SECONDS', 60, 1, 86_400),
    },
    maxActiveKeysPerOrganization: int('MAX_ACTIVE_KEYS_PER_ORGANIZATION', 100, 1, 100_000),
    authFailureMax: int('AUTH_FAILURE_MAX', 600, 1, 1_000_000),
    stytch:
      stytchProjectId && stytchSecret
        ? { projectId: stytchProjectId, secret: stytchSecret, baseUrl: stytchBaseUrl }
        : undefined,
    upgradeUrl: url('UPGRADE_URL', ['http:', 'https:'], 'https://validate.lucitra.ai/settings/billing')!,
    dashboardOrigin: url('DASHBOARD_ORIGIN', ['http:', 'https:'], 'https://validate.lucitra.ai')!,
    logLevel,
    metricsToken: read('METRICS_TOKEN'),
    trustProxy: parseTrustProxy(read('TRUST_PROXY'), problems),
    usageFlushIntervalMs: int('USAGE_FLUSH_INTERVAL_MS', 5000, 100, 600_000),
    githubSecretScanningKeysUrl: url('GITHUB_SECRET_SCANNING_KEYS_URL', ['http:', 'https:'], GITHUB_SECRET_SCANNING_KEYS_URL)!,
    usageSpike: {
      multiplier: decimal('USAGE_SPIKE_MULTIPLIER', 10, 1, 1000),
      minRequests: int('USAGE_SPIKE_MIN_REQUESTS', 1000, 1, 1_000_000_000),
      ipMultiplier: decimal('USAGE_SPIKE_IP_MULTIPLIER', 5, 1, 1000),
      minIps: int('USAGE_SPIKE_MIN_IPS', 20, 1, 1_000_000_000),
    },
    webhooks: {
      secretsKey: parseSecretsKey(read('WEBHOOK_SECRETS_KEY'), problems),
      allowPrivateTargets: bool('WEBHOOK_ALLOW_PRIVATE_TARGETS', false),
      timeoutMs: int('WEBHOOK_TIMEOUT_MS', 10_000, 100, 60_000),
      backoffBaseMs: int('WEBHOOK_BACKOFF_BASE_MS', 5_000, 10, 3_600_000),
      maxAgeSeconds: int('WEBHOOK_MAX_AGE_SECONDS', 86_400, 1, 604_800),
      disableAfterFailures: int('WEBHOOK_DISABLE_AFTER_FAILURES', 5, 1, 1_000),
      pollIntervalMs: int('WEBHOOK_POLL_INTERVAL_MS', 1_000, 10, 60_000),
    },
  };

  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
  return config;
}

/**
 * REDIS_CLUSTER_NODES: comma-separated `host:port` seed nodes (`[::1]:7000` for IPv6); with it,
 * REDIS_CLUSTER_USERNAME / REDIS_CLUSTER_PASSWORD (ACL or `requirepass`) and REDIS_CLUSTER_TLS.
 */
function parseRedisCluster(read: (name: string) => string | undefined, problems: string[]): RedisClusterConfig | undefined {
  const raw = read('REDIS_CLUSTER_NODES');
  const tls = read('REDIS_CLUSTER_TLS') ?? 'false';
  if (tls !== 'true' && tls !== 'false') problems.push(`REDIS_CLUSTER_TLS must be true or false (got "${tls}")`);
  if (raw === undefined) {
    for (const name of ['REDIS_CLUSTER_USERNAME', 'REDIS_CLUSTER_PASSWORD']) {
      if (read(name)) problems.push(`${name} is set but REDIS_CLUSTER_NODES is not`);
    }
    return undefined;
  }
  const nodes: RedisClusterConfig['nodes'] = [];
  for (const entry of raw.split(',').map((part) => part.trim())) {
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
    const host = match?.[1].replace(/^\[|\]$/g, '');
    const port = Number(match?.[2]);
    if (!host || (match![1].startsWith('[') && isIP(host) !== 6) || port < 1 || port > 65535) {
      problems.push(`REDIS_CLUSTER_NODES must be comma-separated host:port seed nodes (not "${entry}")`);
      return undefined;
    }
    nodes.push({ host, port });
  }
  return { nodes, username: read('REDIS_CLUSTER_USERNAME'), password: read('REDIS_CLUSTER_PASSWORD'), tls: tls === 'true' };
}

/** Base64 of exactly 32 random bytes (`openssl rand -base64 32`); the value is never echoed in a message. */
function parseSecretsKey(raw: string | undefined, problems: string[]): Buffer | undefined {
  if (raw === undefined) return undefined;
  const key = Buffer.from(raw, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(raw) || key.length !== 32) {
    problems.push('WEBHOOK_SECRETS_KEY must be the base64 of 32 random bytes (openssl rand -base64 32)');
    return undefined;
  }
  return key;
}

/** `true`/`false`, a hop count, or a comma-separated list of addresses/CIDRs (Fastify's forms). */
function parseTrustProxy(raw: string | undefined, problems: string[]): boolean | string | number {
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  const bad = raw.split(',').map((entry) => entry.trim()).filter((entry) => !isProxyAddress(entry));
  if (bad.length > 0) {
    problems.push(`TRUST_PROXY must be true, false, a hop count, or comma-separated addresses/CIDRs (not "${bad.join('", "')}")`);
    return false;
  }
  return raw;
}

const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An address, an address/prefix-length, or one of the named ranges Fastify knows. */
function isProxyAddress(entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true;
  const [address, bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}
