import Redis from 'ioredis';
import { UsageFlusher } from '../src/api-keys/usage/usage-flusher';
import { UsageSpikeDetector } from '../src/api-keys/usage/usage-spike.detector';
import { hourOf } from '../src/api-keys/usage/usage-spikes';
import type { AppConfig } from '../src/config/app-config';
import { PrismaService } from '../src/database/prisma.service';
import { HOUR_MS, IP_HOURS_KEPT_MS } from '../src/store/admission-store';
import { Backend, SeededOrganization, TestApp, backends, bearer, seedOrganization, startApp } from './support/test-app';

/**
 * Quiet (tests flush when they mean to), behind a trusted proxy (X-Forwarded-For names the
 * client), and a policy small enough to cross with a few dozen requests.
 */
const CONFIG: Partial<AppConfig> = {
  usageFlushIntervalMs: 600_000,
  authFailureMax: 1_000_000,
  rateLimit: { max: 10_000, windowSeconds: 60 },
  trustProxy: true,
  usageSpike: { multiplier: 3, minRequests: 20, ipMultiplier: 3, minIps: 10 },
};

interface Flag {
  observed: number;
  baseline: number;
  raised_at: string;
}
interface HourBucket {
  timestamp: string;
  requests: number;
  rate_limited: number;
  distinct_ips: number;
  usage_spike: Flag | null;
  many_ips: Flag | null;
}

describe.each(backends({ cluster: true }))('Usage that looks stolen on $name', (backend: Backend) => {
  let a: TestApp;
  /** A second instance on the same services (shared backends only). */
  let b: TestApp | undefined;
  let org: SeededOrganization;

  beforeAll(async () => {
    a = await startApp(backend, CONFIG);
    if (backend.shared) b = await startApp(backend, CONFIG);
    org = await seedOrganization(a, 'enterprise'); // the audit trail is an Enterprise capability
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  async function newKey(name: string): Promise<{ id: string; key: string }> {
    const response = await a.http.post('/v1/api-keys').set(bearer(org.key)).send({ name });
    expect(response.status).toBe(201);
    return response.body;
  }

  /**
   * A week-old habit, written straight to PostgreSQL: `requests` in each of the 29 hours before
   * the last one, and, with `ips`, that many distinct IPs counted in each.
   */
  async function history(keyId: string, requests: number, ips?: number): Promise<void> {
    const prisma = a.app.get(PrismaService);
    const now = hourOf(Date.now());
    const hours = Array.from({ length: 29 }, (_, n) => new Date(now - (n + 2) * HOUR_MS));
    await prisma.apiKeyUsage.createMany({ data: hours.map((minute) => ({ apiKeyId: keyId, organizationId: org.id, minute, requests })) });
    if (ips !== undefined) {
      await prisma.apiKeyUsageHour.createMany({ data: hours.map((hour) => ({ apiKeyId: keyId, organizationId: org.id, hour, distinctIps: ips })) });
    }
  }

  async function send(key: string, count: number, ip: (n: number) => string = () => '198.51.100.7'): Promise<void> {
    for (let n = 0; n < count; n++) {
      const response = await a.http.get('/v1/organization').set(bearer(key)).set('X-Forwarded-For', ip(n));
      expect(response.status).toBe(200);
    }
  }

  /** The hour buckets from `sinceMs`'s hour on (two only when the requests straddled an hour). */
  async function hoursSince(keyId: string, sinceMs: number): Promise<HourBucket[]> {
    const response = await a.http.get(`/v1/api-keys/${keyId}/usage?granularity=hour`).set(bearer(org.key));
    expect(response.status).toBe(200);
    return (response.body.data as HourBucket[]).filter((bucket) => Date.parse(bucket.timestamp) >= hourOf(sinceMs));
  }

  async function spikeEvents(keyId: string): Promise<{ target: { id: string }; actor: { type: string }; data: Record<string, unknown> }[]> {
    const response = await a.http.get('/v1/audit/events?type=api_key.usage_spike').set(bearer(org.key));
    expect(response.status).toBe(200);
    return (response.body.data as { target: { id: string }; actor: { type: string }; data: Record<string, unknown> }[]).filter((event) => event.target.id === keyId);
  }

  it('counts the distinct client IPs of a key per hour and flags many_ips when they far exceed its usual', async () => {
    const key = await newKey('used from everywhere');
    await history(key.id, 100, 2); // 100 requests from 2 IPs an hour: 30 requests is no spike
    const startedAt = Date.now();
    await send(key.key, 30, (n) => `203.0.113.${n + 1}`);
    // counted in the admission round trip, nothing in PostgreSQL before the flush
    expect(await hoursSince(key.id, startedAt)).toEqual([]);
    await a.app.get(UsageFlusher).flush();

    const hours = await hoursSince(key.id, startedAt);
    expect(hours.length).toBeGreaterThanOrEqual(1);
    const ips = hours.reduce((total, hour) => total + hour.distinct_ips, 0);
    expect(Math.abs(ips - 30)).toBeLessThanOrEqual(1); // Redis estimates (HyperLogLog); exact at this size in practice
    const flagged = hours.filter((hour) => hour.many_ips);
    expect(flagged.length).toBeGreaterThanOrEqual(1);
    for (const hour of flagged) {
      expect(hour.many_ips).toEqual({ observed: hour.distinct_ips, baseline: 2, raised_at: expect.any(String) });
      expect(hour.usage_spike).toBeNull();
    }

    // one event per flagged hour, newest first
    const events = await spikeEvents(key.id);
    expect(events.map((event) => event.data)).toEqual(
      flagged.map((hour) => ({ kind: 'ips', observed: hour.distinct_ips, baseline: 2, hour: hour.timestamp })).reverse(),
    );
    expect(events.every((event) => event.actor.type === 'system')).toBe(true);

    // On Redis, each key-hour's count expires on its own (one server: the names the service always used)
    if (backend.redisUrl) {
      const redis = new Redis(backend.redisUrl);
      try {
        for (const hour of hours) {
          const ttl = await redis.pttl(`lv:ips:${key.id}:${Date.parse(hour.timestamp)}`);
          expect(ttl).toBeGreaterThan(IP_HOURS_KEPT_MS - 60_000);
          expect(ttl).toBeLessThanOrEqual(IP_HOURS_KEPT_MS);
        }
      } finally {
        redis.disconnect();
      }
    }
  });

  it('flags a burst over the key\'s usual hour once, with one audit event, across flushes and instances', async () => {
    const key = await newKey('bursting');
    await history(key.id, 10); // a usual hour of 10 requests: the flag needs more than 30 (and at least 20)
    const startedAt = Date.now();
    await send(key.key, 25);
    await a.app.get(UsageFlusher).flush();
    // 25 is under 3 × 10: no flag yet, and no IP baseline (none counted before): no many_ips either
    for (const hour of await hoursSince(key.id, startedAt)) expect([hour.usage_spike, hour.many_ips]).toEqual([null, null]);

    // The burst's usage written without its analysis, then two instances analyse it at once.
    const detectorA = a.app.get(UsageSpikeDetector);
    const skipped = jest.spyOn(detectorA, 'analyse').mockResolvedValueOnce(undefined);
    await send(key.key, 25);
    await a.app.get(UsageFlusher).flush();
    skipped.mockRestore();
    const touched = [...new Set([hourOf(startedAt), hourOf(Date.now())])].map((hourMs) => ({ keyId: key.id, hourMs }));
    await Promise.all([detectorA.analyse(touched), (b ?? a).app.get(UsageSpikeDetector).analyse(touched)]);

    // and more traffic, flushed again by each instance
    await send(key.key, 5);
    await Promise.all([a.app.get(UsageFlusher).flush(), b?.app.get(UsageFlusher).flush()]);
    await send(key.key, 5);
    await (b ?? a).app.get(UsageFlusher).flush();

    const hours = await hoursSince(key.id, startedAt);
    expect(hours.reduce((total, hour) => total + hour.requests, 0)).toBe(60);
    const flagged = hours.filter((hour) => hour.usage_spike);
    expect(flagged.length).toBeGreaterThanOrEqual(1);
    for (const hour of flagged) {
      // the figures when raised: past 30, at most the 50 of the analysed burst
      expect(hour.usage_spike).toEqual({ observed: expect.any(Number), baseline: 10, raised_at: expect.any(String) });
      expect(hour.usage_spike!.observed).toBeGreaterThan(30);
      expect(hour.usage_spike!.observed).toBeLessThanOrEqual(50);
      expect(hour.many_ips).toBeNull();
    }

    const events = await spikeEvents(key.id);
    expect(events.map((event) => event.data)).toEqual(
      flagged.map((hour) => ({ kind: 'requests', observed: hour.usage_spike!.observed, baseline: 10, hour: hour.timestamp })).reverse(),
    );
    const summary = (await a.http.get(`/v1/api-keys/${key.id}/usage?granularity=day`).set(bearer(org.key))).body.flags;
    expect(summary).toEqual(flagged.map((hour) => ({ hour: hour.timestamp, kind: 'usage_spike', ...hour.usage_spike })));
  });

  it('judges no key younger than a day, however busy', async () => {
    const key = await newKey('brand new');
    const startedAt = Date.now();
    await send(key.key, 40, (n) => `192.0.2.${n + 1}`);
    await a.app.get(UsageFlusher).flush();
    const hours = await hoursSince(key.id, startedAt);
    expect(hours.every((hour) => hour.usage_spike === null && hour.many_ips === null)).toBe(true);
    expect(await spikeEvents(key.id)).toEqual([]);
  });
});
