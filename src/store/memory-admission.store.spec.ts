import { AdmitRequest, STATE_TTL_MS, StoreEvent, UsageBatch } from './admission-store';
import { MemoryAdmissionStore } from './memory-admission.store';

const T0 = Date.UTC(2026, 10, 28, 12, 0, 30); // 30 s into a minute

function keyRequest(overrides: Partial<AdmitRequest> = {}): AdmitRequest {
  return {
    subject: 'k:key_a',
    entry: `req_${Math.random().toString(16).slice(2)}`,
    max: 3,
    windowMs: 1000,
    keyId: 'key_a',
    organizationId: 'org_a',
    usageKeyId: 'key_a',
    ...overrides,
  };
}

describe('MemoryAdmissionStore', () => {
  let store: MemoryAdmissionStore;

  beforeEach(() => {
    jest.useFakeTimers({ now: T0 });
    store = new MemoryAdmissionStore();
  });
  afterEach(async () => {
    await store.close();
    jest.useRealTimers();
  });

  async function live(): Promise<void> {
    await store.putOrganization('org_a', 'standard');
    await store.putKey('key_a', { revokeAtMs: null, expiresAtMs: null });
  }

  describe('state', () => {
    it('answers missing when the organization or the key has no state', async () => {
      expect((await store.admit(keyRequest())).outcome).toBe('missing');
      await store.putOrganization('org_a', 'free');
      const result = await store.admit(keyRequest());
      expect(result).toMatchObject({ outcome: 'missing', tier: 'free' });
      await store.putKey('key_a', { revokeAtMs: null, expiresAtMs: null });
      expect(await store.admit(keyRequest())).toMatchObject({ outcome: 'ok', tier: 'free' });
    });

    it('counts neither a window entry nor usage for a missing, revoked or expired key', async () => {
      await store.admit(keyRequest());
      await store.putOrganization('org_a', 'free');
      await store.putKey('key_a', { revokeAtMs: T0, expiresAtMs: null });
      await store.admit(keyRequest());
      const write = jest.fn(async (_batches: UsageBatch[]) => undefined);
      await store.drainUsage(write);
      expect(write).not.toHaveBeenCalled();
      await store.putKey('key_a', { revokeAtMs: null, expiresAtMs: null });
      // the window is still empty: all three slots are free
      for (const remaining of [2, 1, 0]) expect((await store.admit(keyRequest())).rateLimit.remaining).toBe(remaining);
    });

    it('seeds only what is missing: a seed never overwrites a put', async () => {
      await store.putOrganization('org_a', 'enterprise');
      await store.putKey('key_a', { revokeAtMs: T0 - 1, expiresAtMs: null });
      await store.seedOrganization('org_a', 'free');
      await store.seedKey('key_a', { revokeAtMs: null, expiresAtMs: null });
      expect(await store.admit(keyRequest())).toMatchObject({ outcome: 'revoked', tier: 'enterprise' });
      expect(await store.keyRevokeAt('key_a')).toBe(T0 - 1);
    });

    it('seeds state that is missing, and a later put overwrites the seed', async () => {
      await store.seedOrganization('org_a', 'free');
      await store.seedKey('key_a', { revokeAtMs: null, expiresAtMs: null });
      expect(await store.admit(keyRequest())).toMatchObject({ outcome: 'ok', tier: 'free' });
      await store.putOrganization('org_a', 'enterprise');
      await store.putKey('key_a', { revokeAtMs: T0, expiresAtMs: null });
      expect(await store.admit(keyRequest())).toMatchObject({ outcome: 'revoked', tier: 'enterprise' });
    });

    it('refuses a key from its revocation time on (a rotation grace period ends on time)', async () => {
      await store.putOrganization('org_a', 'free');
      await store.putKey('key_a', { revokeAtMs: T0 + 5000, expiresAtMs: null });
      expect((await store.admit(keyRequest({ max: 100 }))).outcome).toBe('ok');
      jest.setSystemTime(T0 + 4999);
      expect((await store.admit(keyRequest({ max: 100 }))).outcome).toBe('ok');
      jest.setSystemTime(T0 + 5000);
      expect((await store.admit(keyRequest({ max: 100 }))).outcome).toBe('revoked');
      expect(await store.keyRevokeAt('key_a')).toBe(T0 + 5000);
    });

    it('refuses a key from its expiry on; revocation wins when both apply', async () => {
      await store.putOrganization('org_a', 'free');
      await store.putKey('key_a', { revokeAtMs: null, expiresAtMs: T0 + 1000 });
      expect((await store.admit(keyRequest())).outcome).toBe('ok');
      jest.setSystemTime(T0 + 1000);
      expect((await store.admit(keyRequest())).outcome).toBe('expired');
      await store.putKey('key_a', { revokeAtMs: T0, expiresAtMs: T0 + 1000 });
      expect((await store.admit(keyRequest())).outcome).toBe('revoked');
    });

    it('forgets state after STATE_TTL_MS without a write (re-seeded from the database)', async () => {
      await live();
      jest.setSystemTime(T0 + STATE_TTL_MS - 1);
      expect((await store.admit(keyRequest())).outcome).toBe('ok');
      jest.setSystemTime(T0 + STATE_TTL_MS);
      expect((await store.admit(keyRequest())).outcome).toBe('missing');
      await store.seedOrganization('org_a', 'free');
      await store.seedKey('key_a', { revokeAtMs: null, expiresAtMs: null });
      expect(await store.admit(keyRequest())).toMatchObject({ outcome: 'ok', tier: 'free' });
    });

    it('reports no revocation for a live or unknown key', async () => {
      await live();
      expect(await store.keyRevokeAt('key_a')).toBeNull();
      expect(await store.keyRevokeAt('key_unknown')).toBeNull();
    });
  });

  describe('sliding window', () => {
    it('accepts max requests, then limits with the time until the oldest leaves', async () => {
      await live();
      const first = await store.admit(keyRequest());
      expect(first).toMatchObject({ outcome: 'ok', rateLimit: { limit: 3, remaining: 2, resetAtMs: T0 + 1000, retryAfterMs: 0, windowSeconds: 1 } });
      jest.setSystemTime(T0 + 300);
      expect((await store.admit(keyRequest())).rateLimit).toMatchObject({ remaining: 1, resetAtMs: T0 + 1000 });
      jest.setSystemTime(T0 + 600);
      expect((await store.admit(keyRequest())).rateLimit).toMatchObject({ remaining: 0, resetAtMs: T0 + 1000 });
      jest.setSystemTime(T0 + 700);
      expect(await store.admit(keyRequest())).toMatchObject({
        outcome: 'limited',
        rateLimit: { remaining: 0, resetAtMs: T0 + 1000, retryAfterMs: 300 },
      });
    });

    it('frees slots one by one as entries age out (not all at once), exactly at entry + window', async () => {
      await live();
      for (const at of [0, 300, 600]) {
        jest.setSystemTime(T0 + at);
        expect((await store.admit(keyRequest())).outcome).toBe('ok');
      }
      jest.setSystemTime(T0 + 999);
      expect((await store.admit(keyRequest())).outcome).toBe('limited');
      jest.setSystemTime(T0 + 1000);
      expect(await store.admit(keyRequest())).toMatchObject({ outcome: 'ok', rateLimit: { remaining: 0, resetAtMs: T0 + 1300 } });
      expect(await store.admit(keyRequest())).toMatchObject({ outcome: 'limited', rateLimit: { retryAfterMs: 300 } });
      jest.setSystemTime(T0 + 1300);
      expect((await store.admit(keyRequest())).outcome).toBe('ok');
      expect((await store.admit(keyRequest())).outcome).toBe('limited');
    });

    it('does not count rejected requests', async () => {
      await live();
      for (let index = 0; index < 3; index++) await store.admit(keyRequest());
      jest.setSystemTime(T0 + 500);
      for (let index = 0; index < 50; index++) expect((await store.admit(keyRequest())).outcome).toBe('limited');
      jest.setSystemTime(T0 + 1000);
      expect(await store.admit(keyRequest())).toMatchObject({ outcome: 'ok', rateLimit: { remaining: 2 } });
    });

    it('never accepts more than max in any window-long interval (irregular arrivals)', async () => {
      await live();
      const accepted: number[] = [];
      let now = T0;
      let seed = 42;
      for (let index = 0; index < 2000; index++) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31; // a fixed pseudo-random sequence
        now += seed % 40;
        jest.setSystemTime(now);
        const result = await store.admit(keyRequest({ max: 7, windowMs: 500 }));
        if (result.outcome === 'ok') accepted.push(now);
        else expect(result.rateLimit.retryAfterMs).toBeGreaterThan(0);
      }
      for (let index = 7; index < accepted.length; index++) {
        // the 8th accepted request after any accepted one is at least a window later
        expect(accepted[index] - accepted[index - 7]).toBeGreaterThanOrEqual(500);
      }
    });

    it('keeps one bucket per subject', async () => {
      await live();
      await store.putKey('key_b', { revokeAtMs: null, expiresAtMs: null });
      for (let index = 0; index < 3; index++) await store.admit(keyRequest());
      expect((await store.admit(keyRequest())).outcome).toBe('limited');
      const other = await store.admit(keyRequest({ subject: 'k:key_b', keyId: 'key_b', usageKeyId: 'key_b' }));
      expect(other).toMatchObject({ outcome: 'ok', rateLimit: { remaining: 2 } });
    });

    it('limits a subject without key or organization state (the brute-force brake)', async () => {
      const brake = (): AdmitRequest => ({ subject: 'ip:10.0.0.1', entry: `req_${Math.random()}`, max: 2, windowMs: 60_000 });
      expect((await store.admit(brake())).outcome).toBe('ok');
      expect((await store.admit(brake())).outcome).toBe('ok');
      const limited = await store.admit(brake());
      expect(limited).toMatchObject({ outcome: 'limited', tier: undefined, rateLimit: { retryAfterMs: 60_000 } });
    });

    it('follows a lowered limit: retry waits for enough entries to leave', async () => {
      await live();
      for (const at of [0, 100, 200, 300, 400]) {
        jest.setSystemTime(T0 + at);
        await store.admit(keyRequest({ max: 5 }));
      }
      jest.setSystemTime(T0 + 500);
      // 5 in the window, limit now 3: the third entry (T0 + 200) must leave first
      expect(await store.admit(keyRequest({ max: 3 }))).toMatchObject({ outcome: 'limited', rateLimit: { remaining: 0, retryAfterMs: 700 } });
    });

    it('applies the limit a key carries in its state over the request’s, from the next request after a put', async () => {
      await store.putOrganization('org_a', 'free');
      await store.putKey('key_a', { revokeAtMs: null, expiresAtMs: null, rateLimit: { max: 2, windowMs: 10_000 } });
      expect(await store.admit(keyRequest())).toMatchObject({ outcome: 'ok', rateLimit: { limit: 2, remaining: 1, windowSeconds: 10, resetAtMs: T0 + 10_000 } });
      expect(await store.admit(keyRequest())).toMatchObject({ outcome: 'ok', rateLimit: { limit: 2, remaining: 0 } });
      expect(await store.admit(keyRequest())).toMatchObject({ outcome: 'limited', rateLimit: { limit: 2, retryAfterMs: 10_000 } });
      // cleared: the request's limit (3 per second) again
      await store.putKey('key_a', { revokeAtMs: null, expiresAtMs: null, rateLimit: null });
      expect(await store.admit(keyRequest())).toMatchObject({ outcome: 'ok', rateLimit: { limit: 3, remaining: 0, windowSeconds: 1 } });
    });
  });

  describe('usage', () => {
    it('counts accepted and limited requests per key and minute, with the last use', async () => {
      await live();
      for (let index = 0; index < 4; index++) await store.admit(keyRequest()); // 3 ok, 1 limited
      jest.setSystemTime(T0 + 45_000); // the next minute
      await store.admit(keyRequest());
      const write = jest.fn(async (_batches: UsageBatch[]) => undefined);
      await store.drainUsage(write);
      expect(write).toHaveBeenCalledTimes(1);
      const [batch] = write.mock.calls[0][0];
      const minute = T0 - (T0 % 60_000);
      expect(batch.counts.sort((a, b) => a.minuteMs - b.minuteMs)).toEqual([
        { keyId: 'key_a', minuteMs: minute, requests: 3, rateLimited: 1 },
        { keyId: 'key_a', minuteMs: minute + 60_000, requests: 1, rateLimited: 0 },
      ]);
      expect(batch.lastUsed).toEqual([{ keyId: 'key_a', atMs: T0 + 45_000 }]);
    });

    it('hands each count to one drain only, and skips the write when nothing was counted', async () => {
      await live();
      await store.admit(keyRequest());
      const write = jest.fn(async (_batches: UsageBatch[]) => undefined);
      await store.drainUsage(write);
      await store.drainUsage(write);
      expect(write).toHaveBeenCalledTimes(1);
    });

    it('does not count usage when no usage key is given (sessions, the brake)', async () => {
      await live();
      await store.admit(keyRequest({ usageKeyId: undefined }));
      const write = jest.fn(async (_batches: UsageBatch[]) => undefined);
      await store.drainUsage(write);
      expect(write).not.toHaveBeenCalled();
    });

    it('hands a batch whose write failed out again, whole and under its id, before what was counted since', async () => {
      await live();
      await store.admit(keyRequest());
      await store.admit(keyRequest());
      const failure = new Error('database down');
      const failing = jest.fn(async (_batches: UsageBatch[]) => {
        // a request counted while the write is in flight
        jest.setSystemTime(T0 + 10);
        await store.admit(keyRequest());
        throw failure;
      });
      await expect(store.drainUsage(failing)).rejects.toBe(failure);
      const [failed] = failing.mock.calls[0][0];
      expect(failed.counts).toEqual([{ keyId: 'key_a', minuteMs: T0 - (T0 % 60_000), requests: 2, rateLimited: 0 }]);

      const write = jest.fn(async (_batches: UsageBatch[]) => undefined);
      await store.drainUsage(write);
      expect(write).toHaveBeenCalledTimes(1);
      const [again, next] = write.mock.calls[0][0];
      // the same batch, so a writer that did apply it before failing can recognise it
      expect(again).toEqual(failed);
      expect(next.id).not.toBe(failed.id);
      expect(next.counts).toEqual([{ keyId: 'key_a', minuteMs: T0 - (T0 % 60_000), requests: 1, rateLimited: 0 }]);
      expect(next.lastUsed).toEqual([{ keyId: 'key_a', atMs: T0 + 10 }]);
      await store.drainUsage(write);
      expect(write).toHaveBeenCalledTimes(1);
    });

    it('keeps the last use through a failed write', async () => {
      await live();
      jest.setSystemTime(T0 + 20);
      await store.admit(keyRequest({ max: 100 }));
      const failing = jest.fn(async (_batches: UsageBatch[]) => {
        throw new Error('database down');
      });
      await expect(store.drainUsage(failing)).rejects.toThrow('database down');
      const write = jest.fn(async (_batches: UsageBatch[]) => undefined);
      await store.drainUsage(write);
      expect(write.mock.calls[0][0][0].lastUsed).toEqual([{ keyId: 'key_a', atMs: T0 + 20 }]);
    });
  });

  describe('distinct client IPs', () => {
    const HOUR = Date.UTC(2026, 10, 28, 12); // T0's hour

    it('counts each IP once per key and hour, limited requests too, and no IP for a refused key', async () => {
      await live();
      for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.1', '10.0.0.3', '10.0.0.2']) await store.admit(keyRequest({ clientIp: ip }));
      // max 3: two of the five were rate limited, all five counted
      await store.admit(keyRequest({ subject: 'k:key_b', keyId: undefined, usageKeyId: 'key_b', clientIp: '10.0.0.1' }));
      await store.admit(keyRequest({ clientIp: '10.0.0.9', usageKeyId: undefined })); // not counted as usage: no IP either
      await store.putKey('key_a', { revokeAtMs: T0, expiresAtMs: null });
      await store.admit(keyRequest({ clientIp: '10.0.0.8' }));
      expect(await store.distinctIps([{ keyId: 'key_a', hourMs: HOUR }, { keyId: 'key_b', hourMs: HOUR }, { keyId: 'key_c', hourMs: HOUR }])).toEqual([3, 1, 0]);
    });

    it('starts a new count each hour and forgets an hour once its last new IP is three hours old', async () => {
      await live();
      await store.admit(keyRequest({ max: 100, clientIp: '10.0.0.1' }));
      jest.setSystemTime(HOUR + 60 * 60_000);
      await store.admit(keyRequest({ max: 100, clientIp: '10.0.0.1' }));
      await store.admit(keyRequest({ max: 100, clientIp: '10.0.0.2' }));
      const hours = [{ keyId: 'key_a', hourMs: HOUR }, { keyId: 'key_a', hourMs: HOUR + 60 * 60_000 }];
      expect(await store.distinctIps(hours)).toEqual([1, 2]);
      jest.setSystemTime(T0 + 3 * 60 * 60_000);
      jest.advanceTimersByTime(60_000); // the sweep
      expect(await store.distinctIps(hours)).toEqual([0, 2]);
    });
  });

  it('delivers published events to subscribers', async () => {
    const seen: StoreEvent[] = [];
    store.subscribe((event) => seen.push(event));
    await store.publish({ type: 'key.revoked', keyId: 'key_a', revokeAtMs: T0 });
    expect(seen).toEqual([{ type: 'key.revoked', keyId: 'key_a', revokeAtMs: T0 }]);
  });

  it('answers ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });
});
