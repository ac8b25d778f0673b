import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import Redis from 'ioredis';
import { LocalCluster, startLocalCluster } from '../../bench/src/local-cluster';
import { pgAdapterFactory, applyMigrations } from '../../src/database/migrator';
import { MIGRATIONS_DIR } from '../../src/database/connect-database';

const LOCAL_POSTGRES = 'postgresql://postgres@127.0.0.1:5432/postgres';
const LOCAL_REDIS = 'redis://127.0.0.1:6379/15';

/**
 * Finds the real services for the end-to-end suite: TEST_DATABASE_URL / TEST_REDIS_URL when set,
 * else PostgreSQL and Redis on their usual local ports when they answer. A throwaway database is
 * created and migrated; its URL reaches the specs as LV_E2E_DATABASE_URL (none → embedded only).
 */
export default async function globalSetup(): Promise<void> {
  // Names this run's files in the temporary folder (the count of responses checked against the OpenAPI document).
  process.env.LV_E2E_RUN_ID = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const adminUrl = process.env.TEST_DATABASE_URL || LOCAL_POSTGRES;
  const redisUrl = process.env.TEST_REDIS_URL || LOCAL_REDIS;
  const required = Boolean(process.env.TEST_DATABASE_URL || process.env.TEST_REDIS_URL || process.env.CI);

  const databaseUrl = await createTestDatabase(adminUrl).catch((error: Error) => {
    if (required) throw new Error(`PostgreSQL for the tests is not reachable at ${redact(adminUrl)}: ${error.message}`);
    return undefined;
  });
  const redisOk = await pingRedis(redisUrl).catch((error: Error) => {
    if (required) throw new Error(`Redis for the tests is not reachable at ${redisUrl}: ${error.message}`);
    return false;
  });
  if (databaseUrl && redisOk) {
    process.env.LV_E2E_DATABASE_URL = databaseUrl;
    process.env.LV_E2E_REDIS_URL = redisUrl;
    const cluster = await startTestCluster(required);
    process.stdout.write(
      `\nEnd-to-end backends: PostgreSQL (${redact(databaseUrl)}) + Redis (${redisUrl})${cluster ? `, + Redis Cluster (${cluster})` : ''}, and embedded.\n`,
    );
  } else {
    process.stdout.write('\nEnd-to-end backends: embedded only (no PostgreSQL/Redis found).\n');
  }
}

/**
 * A local Redis Cluster (3 primaries, 3 replicas, private ports) for the admission cases; stopped
 * by global teardown. Needed whenever the real services are (CI has redis-server and redis-cli).
 */
async function startTestCluster(required: boolean): Promise<string | undefined> {
  try {
    const cluster = await startLocalCluster();
    (globalThis as { lvTestCluster?: LocalCluster }).lvTestCluster = cluster;
    process.env.LV_E2E_REDIS_CLUSTER_NODES = cluster.nodes;
    return cluster.nodes;
  } catch (error) {
    if (required) throw new Error(`A local Redis Cluster could not be started: ${(error as Error).message}`);
    return undefined;
  }
}

async function createTestDatabase(adminUrl: string): Promise<string> {
  const name = `lv_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await applyMigrations(pgAdapterFactory(url.toString()), MIGRATIONS_DIR);
  process.env.LV_E2E_ADMIN_DATABASE_URL = adminUrl;
  process.env.LV_E2E_DATABASE_NAME = name;
  return url.toString();
}

async function pingRedis(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } finally {
    redis.disconnect();
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
}
