import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { KeyRevocations } from '../src/api-keys/key-revocations';
import { AppConfig } from '../src/config/app-config';
import { SeededOrganization, TestApp, bearer, expectEnvelope, seedOrganization, sharedBackend, startApp } from './support/test-app';
import { waitFor } from './support/waiting';

/**
 * The store's events over Redis pub/sub, as anyone reaching the Redis server can publish them: from
 * any database, since pub/sub ignores SELECT. An instance drops what is malformed and keeps serving,
 * and treats a well-formed event as a hint to read the store — a forged revocation changes nothing.
 */

const QUIET: Partial<AppConfig> = { usageFlushIntervalMs: 600_000, authFailureMax: 1_000_000 };

const shared = sharedBackend();
(shared ? describe : describe.skip)('store events from an untrusted Redis channel (PostgreSQL + Redis)', () => {
  let a: TestApp;
  let b: TestApp;
  let org: SeededOrganization;
  /** A client on another database of the same Redis server. */
  let outsider: Redis;
  let channel: string;

  const works = async (target: TestApp, secret: string) => (await target.http.get('/v1/organization').set(bearer(secret))).status;
  const publishEverywhere = async (message: string) => {
    // the channel this deployment listens on, and the one every deployment shared before
    for (const name of [channel, 'lv:events']) await outsider.publish(name, message);
  };
  /** Revokes a key on A and waits until B has noted it: every message published before has been handled by then. */
  const barrier = async () => {
    const created = await a.http.post('/v1/api-keys').set(bearer(org.key)).send({ name: 'barrier' });
    expect((await a.http.delete(`/v1/api-keys/${created.body.id}`).set(bearer(org.key))).status).toBe(200);
    await waitFor('B to note a real revocation', async () => b.app.get(KeyRevocations).isRevoked(created.body.id));
  };

  beforeAll(async () => {
    a = await startApp(shared!, QUIET);
    b = await startApp(shared!, QUIET);
    org = await seedOrganization(a);
    const url = new URL(shared!.redisUrl!);
    const db = Number(url.pathname.slice(1) || 0);
    channel = `lv:events:${db}`;
    url.pathname = `/${(db + 1) % 16}`;
    outsider = new Redis(url.toString());
  });
  afterAll(async () => {
    outsider?.disconnect();
    await a?.close();
    await b?.close();
  });

  it('keeps serving through garbage on the channel, and says so once, briefly, without echoing it', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      const garbage = [
        'not-json', 'null', '[]', '42', '"key.revoked"', '{}', '{"type":"key.revoked"}', '{"type":"key.revoked","keyId":42}',
        '{"type":"key.revoked","keyId":{"toString":1}}', '{"type":"key.revoked","keyId":"../../etc"}', '{"type":"__proto__"}',
        '{"type":"organization.changed","organizationId":null}', `{"type":"key.revoked","keyId":"${'k'.repeat(1_000_000)}"}`,
        '\u001b[31mred\u0000', '{'.repeat(100_000), 'x'.repeat(5_000_000),
      ];
      for (const message of garbage) await publishEverywhere(message);
      await barrier();
      for (const target of [a, b]) expect(await works(target, org.key)).toBe(200);

      const lines = warn.mock.calls.map((call) => String(call[0])).filter((line) => line.includes('malformed'));
      expect(lines.length).toBeGreaterThanOrEqual(1);
      expect(lines.length).toBeLessThanOrEqual(2); // at most one report per instance per 10 s, however many arrive
      for (const line of lines) {
        expect(line).toContain(channel);
        expect(line.length).toBeLessThan(300);
        expect(line).not.toContain('\u001b');
      }
    } finally {
      warn.mockRestore();
    }
  });

  it('ignores a forged revocation of a live key: the key keeps working on every instance', async () => {
    const live = await a.http.post('/v1/api-keys').set(bearer(org.key)).send({ name: 'live, forged revocation' });
    expect(live.status).toBe(201);
    for (const target of [a, b]) expect(await works(target, live.body.key)).toBe(200);

    const forged = JSON.stringify({ type: 'key.revoked', keyId: live.body.id, revokeAtMs: 0 });
    await publishEverywhere(forged);
    await barrier();

    for (const target of [a, b]) {
      expect(target.app.get(KeyRevocations).isRevoked(live.body.id)).toBe(false);
      expect(await works(target, live.body.key)).toBe(200);
    }
    expect((await a.http.get(`/v1/api-keys/${live.body.id}`).set(bearer(org.key))).body.revoked_at).toBeNull();
  });

  it('still refuses a really revoked key on the other instance at once, and announces it on its own channel', async () => {
    const listener = outsider.duplicate();
    const heard: string[] = [];
    try {
      await listener.subscribe(channel);
      listener.on('message', (_channel: string, message: string) => heard.push(message));
      const victim = await a.http.post('/v1/api-keys').set(bearer(org.key)).send({ name: 'really revoked' });
      expect(await works(b, victim.body.key)).toBe(200);

      expect((await a.http.delete(`/v1/api-keys/${victim.body.id}`).set(bearer(org.key))).status).toBe(200);
      expectEnvelope(await b.http.get('/v1/organization').set(bearer(victim.body.key)), 401, 'API_KEY_REVOKED');
      await waitFor('B to note it', async () => b.app.get(KeyRevocations).isRevoked(victim.body.id));
      await waitFor('the event on the channel', async () => heard.some((message) => message.includes(victim.body.id)));
    } finally {
      listener.disconnect();
    }
  });
});
