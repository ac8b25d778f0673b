import path from 'node:path';
import calculateSlot from 'cluster-key-slot';
import { Cluster } from 'ioredis';
import { KeyRevocations } from '../src/api-keys/key-revocations';
import { UsageFlusher } from '../src/api-keys/usage/usage-flusher';
import { UsageRepository } from '../src/api-keys/usage/usage.repository';
import { AppConfig } from '../src/config/app-config';
import { OrganizationsService } from '../src/organizations/organizations.service';
import { AdmissionStore } from '../src/store/admission-store';
import { clusterLayout } from '../src/store/key-layout';
import { usageNamespace } from '../src/store/usage-namespace';
import { npmAdmin } from './support/admin-cli';
import { SeededOrganization, TestApp, bearer, clusterBackend, expectEnvelope, seedOrganization, startApp } from './support/test-app';
import { waitFor } from './support/waiting';

/**
 * Two instances on a real Redis Cluster (3 primaries, 3 replicas, started by global setup): what
 * must hold across instances holds across shards — revocations and tier changes from the next
 * request, usage counted exactly once through dying drainers, state healed from PostgreSQL when
 * the shards lose it. (The admission cases of every other spec run on the cluster too.)
 */

const QUIET: Partial<AppConfig> = { usageFlushIntervalMs: 600_000, authFailureMax: 1_000_000 };
const SYSTEM = { type: 'system' as const, id: 'test' };

const cluster = clusterBackend();
(cluster ? describe : describe.skip)('two instances on a Redis Cluster', () => {
  let a: TestApp;
  let b: TestApp;
  let org: SeededOrganization;
  /** The test's own view of the cluster. */
  let redis: Cluster;
  const layout = clusterLayout(usageNamespace({ databaseUrl: cluster?.databaseUrl, dataDir: '' }));

  const status = async (target: TestApp, secret: string, path = '/v1/organization') => (await target.http.get(path).set(bearer(secret))).status;
  async function createKeys(count: number, name: string): Promise<{ id: string; key: string }[]> {
    const keys = [];
    for (let n = 0; n < count; n++) {
      const response = await a.http.post('/v1/api-keys').set(bearer(org.key)).send({ name: `${name} ${n}` });
      expect(response.status).toBe(201);
      keys.push(response.body);
    }
    return keys;
  }
  /** The primaries holding these keys' state, by node address. */
  const primariesOf = (ids: string[]) => new Set(ids.map((id) => redis.slots[calculateSlot(layout.keyState(id))][0]));

  beforeAll(async () => {
    a = await startApp(cluster!, QUIET);
    b = await startApp(cluster!, QUIET);
    org = await seedOrganization(a, 'enterprise');
    redis = new Cluster(cluster!.redisClusterNodes!.split(',').map((node) => ({ host: node.split(':')[0], port: Number(node.split(':')[1]) })));
    await new Promise((resolve) => redis.once('ready', resolve));
  });
  afterAll(async () => {
    redis?.disconnect();
    await a?.close();
    await b?.close();
  });

  it('refuses on B at the next request the keys A revoked, whichever shard holds them', async () => {
    const keys = await createKeys(12, 'revoked across shards');
    expect(primariesOf(keys.map((key) => key.id)).size).toBeGreaterThanOrEqual(2);
    for (const key of keys) expect(await status(b, key.key)).toBe(200);
    for (const key of keys) {
      expect((await a.http.delete(`/v1/api-keys/${key.id}`).set(bearer(org.key))).status).toBe(200);
      expectEnvelope(await b.http.get('/v1/organization').set(bearer(key.key)), 401, 'API_KEY_REVOKED');
    }
    // the event reached B too (it refuses answers in flight for them)
    await waitFor('B to hear of every revocation', async () => keys.every((key) => b.app.get(KeyRevocations).isRevoked(key.id)));
  });

  it('applies a tier change on B from the next request of every key, in every bucket', async () => {
    const keys = await createKeys(8, 'tier across buckets');
    for (const key of keys) expect(await status(b, key.key, '/v1/audit/events')).toBe(200);
    await a.app.get(OrganizationsService).setTier(org.id, 'free', SYSTEM);
    for (const key of keys) expect(await status(b, key.key, '/v1/audit/events')).toBe(403);
    await a.app.get(OrganizationsService).setTier(org.id, 'enterprise', SYSTEM);
    for (const key of keys) expect(await status(b, key.key, '/v1/audit/events')).toBe(200);
  });

  it('counts usage exactly once across shards when a drainer dies holding batches, before or after writing them', async () => {
    const keys = await createKeys(6, 'usage across shards');
    const total = async () => {
      let sum = 0;
      for (const key of keys) {
        const response = await b.http.get(`/v1/api-keys/${key.id}/usage?granularity=day`).set(bearer(org.key));
        sum += (response.body.data as { requests: number }[]).reduce((all, bucket) => all + bucket.requests, 0);
      }
      return sum;
    };
    const claimedBatches = async () => {
      const held = [];
      for (const bucket of layout.usageBuckets()) for (const id of await redis.zrange(bucket.batches, 0, -1)) held.push({ bucket, id });
      return held;
    };
    /** A drain on A whose process "dies" in `write`: its claims are never released; then their time runs out. */
    const dieWhileDraining = async (writeFirst: boolean) => {
      let claimed!: () => void;
      const holding = new Promise<void>((resolve) => (claimed = resolve));
      void a.app.get(AdmissionStore).drainUsage(async (batches) => {
        if (writeFirst) await a.app.get(UsageRepository).add(batches);
        claimed();
        await new Promise(() => undefined);
      });
      await holding;
      const held = await claimedBatches();
      expect(held.length).toBeGreaterThanOrEqual(2); // the keys' usage lies in several buckets
      for (const { bucket, id } of held) await redis.zadd(bucket.batches, 0, id);
    };

    await b.app.get(UsageFlusher).flush();
    for (const key of keys) for (let n = 0; n < 3; n++) expect(await status(a, key.key)).toBe(200);
    await dieWhileDraining(true); // wrote the batches, died before the store forgot them
    await b.app.get(UsageFlusher).flush();
    expect(await total()).toBe(18);

    for (const key of keys) for (let n = 0; n < 2; n++) expect(await status(b, key.key)).toBe(200);
    await dieWhileDraining(false); // died before writing them
    await b.app.get(UsageFlusher).flush();
    expect(await total()).toBe(30);
    expect(await claimedBatches()).toEqual([]);
  });

  it('takes the admin command line\'s revocation and tier change from REDIS_CLUSTER_NODES, at once and without a warning', async () => {
    const [key] = await createKeys(1, 'revoked by an operator');
    expect(await status(b, key.key)).toBe(200);
    const env = { DATABASE_URL: cluster!.databaseUrl, REDIS_URL: undefined, REDIS_CLUSTER_NODES: cluster!.redisClusterNodes };
    const admin = (...args: string[]) => npmAdmin(path.resolve(__dirname, '..'), env, [...args, '--json'], 120_000);

    const revoked = await admin('key', 'revoke', key.id);
    expect({ code: revoked.code, stderr: revoked.stderr }).toEqual({ code: 0, stderr: '' });
    expectEnvelope(await b.http.get('/v1/organization').set(bearer(key.key)), 401, 'API_KEY_REVOKED');

    const downgraded = await admin('org', 'set-tier', org.id, 'free');
    expect({ code: downgraded.code, stderr: downgraded.stderr }).toEqual({ code: 0, stderr: '' });
    expect(await status(b, org.key, '/v1/audit/events')).toBe(403);
    await a.app.get(OrganizationsService).setTier(org.id, 'enterprise', SYSTEM);
  });

  it('heals from PostgreSQL when the shards lose their data: revoked keys stay refused, tiers and limits hold', async () => {
    const [live, revoked] = await createKeys(2, 'after data loss');
    expect((await a.http.delete(`/v1/api-keys/${revoked.id}`).set(bearer(org.key))).status).toBe(200);
    await a.app.get(OrganizationsService).setTier(org.id, 'standard', SYSTEM);
    await Promise.all(redis.nodes('master').map((node) => node.flushall()));

    for (const target of [a, b]) {
      expectEnvelope(await target.http.get('/v1/organization').set(bearer(revoked.key)), 401, 'API_KEY_REVOKED');
      expect(await status(target, live.key)).toBe(200);
      expectEnvelope(await target.http.get('/v1/audit/events').set(bearer(live.key)), 403, 'ENTERPRISE_REQUIRED');
    }
    await a.app.get(OrganizationsService).setTier(org.id, 'enterprise', SYSTEM);
  });
});
