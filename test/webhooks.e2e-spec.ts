import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { OrganizationsService } from '../src/organizations/organizations.service';
import { freePort } from './support/fault-servers';
import { ServiceProcess, admin, ensureBuilt } from './support/fault-service';
import { Backend, SeededOrganization, TestApp, bearer, expectEnvelope, seedOrganization, sharedBackend, startApp } from './support/test-app';
import { WebhookReceiver, fastWebhooks, verifies } from './support/webhook-receiver';
import { waitFor } from './support/waiting';

/**
 * Signed webhooks end to end on PostgreSQL: real apps over HTTP deliver to a local receiver that
 * verifies every message with the `standardwebhooks` package. Several instances share the
 * database here, as in production; routes, hostile input and the embedded mode are in webhook-routes.e2e-spec.ts.
 */

const KEY = randomBytes(32);
const FAST = fastWebhooks(KEY);

interface Endpoint {
  id: string;
  secret: string;
  [field: string]: unknown;
}

const shared = sharedBackend();

(shared ? describe : describe.skip)('webhooks on PostgreSQL (several instances)', () => {
  const backend = shared as Backend;
  let target: TestApp;
  let receiver: WebhookReceiver;
  let org: SeededOrganization;
  let path = 0;

  const newPath = () => `/hook-${++path}`;
  async function register(on: TestApp, secretOf: SeededOrganization, hookPath: string, eventTypes: string[], behaviour?: Parameters<WebhookReceiver['expect']>[2]) {
    const response = await on.http.post('/v1/webhooks').set(bearer(secretOf.key)).send({ url: receiver.url(hookPath), event_types: eventTypes });
    expect(response.status).toBe(201);
    const endpoint = response.body as Endpoint;
    receiver.expect(hookPath, endpoint.secret, behaviour);
    return endpoint;
  }
  const attemptsOf = async (endpoint: Endpoint, secret = org.key) => {
    const response = await target.http.get(`/v1/webhooks/${endpoint.id}/deliveries?limit=100`).set(bearer(secret));
    expect(response.status).toBe(200);
    return (response.body.data as Array<Record<string, unknown>>).reverse();
  };
  const createKey = async (secret = org.key, on = target) => {
    const response = await on.http.post('/v1/api-keys').set(bearer(secret)).send({ name: 'hooked key' });
    expect(response.status).toBe(201);
    return response.body as { id: string; key: string };
  };

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    target = await startApp(backend, { webhooks: FAST, rateLimit: { max: 100_000, windowSeconds: 60 } });
    org = await seedOrganization(target, 'enterprise', 'Hooked org');
  });
  afterAll(async () => {
    await target?.close();
    await receiver?.close();
  });

  it('delivers created, rotated and revoked key events, signed so that standardwebhooks verifies them', async () => {
    const hook = newPath();
    const endpoint = await register(target, org, hook, ['api_key.created', 'api_key.rotated', 'api_key.revoked']);
    expect(endpoint).toMatchObject({ object: 'webhook_endpoint', url: receiver.url(hook), enabled: true, consecutive_failures: 0 });
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);

    const key = await createKey();
    const rotated = await target.http.post(`/v1/api-keys/${key.id}/rotate`).set(bearer(org.key)).send({});
    expect(rotated.status).toBe(201);
    expect((await target.http.delete(`/v1/api-keys/${rotated.body.id}`).set(bearer(org.key))).status).toBe(200);

    const got = await receiver.until('three events', () => receiver.at(hook).length >= 3 && receiver.at(hook));
    expect(got.every((request) => request.verified)).toBe(true);
    const bodies = got.map((request) => JSON.parse(request.body));
    expect(bodies.map((body) => body.type).sort()).toEqual(['api_key.created', 'api_key.revoked', 'api_key.rotated']);
    const created = bodies.find((body) => body.type === 'api_key.created');
    expect(created).toEqual({
      type: 'api_key.created',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: {
        organization_id: org.id,
        object: { type: 'api_key', id: key.id },
        actor: { type: 'api_key', id: org.keyId },
        name: 'hooked key',
        environment: 'production',
      },
    });
    expect(bodies.find((body) => body.type === 'api_key.rotated').data).toMatchObject({ object: { id: key.id }, new_key_id: rotated.body.id });
    // the webhook-id is the audit event's id; nothing secret is in a body
    expect(got[0].headers['webhook-id']).toMatch(/^evt_[0-9a-f]{28}$/);
    for (const request of got) {
      expect(request.body).not.toContain(key.key);
      expect(request.body).not.toContain(rotated.body.key);
      expect(request.headers['content-type']).toBe('application/json');
    }
    // the key.rotated creation of the new key is not an api_key.created event: exactly three arrived
    expect(receiver.at(hook)).toHaveLength(3);
    // an attempt is recorded once the receiver has answered
    const attempts = await waitFor('three recorded attempts', async () => {
      const listed = await attemptsOf(endpoint);
      return listed.length === 3 && listed;
    });
    expect(attempts.map((attempt) => [attempt.attempt, attempt.status_code, attempt.failure, attempt.outcome])).toEqual(Array(3).fill([1, 204, null, 'delivered']));
  });

  it('delivers organization.tier_changed, and each endpoint only the types it subscribed to', async () => {
    const other = await seedOrganization(target, 'free', 'Tiered org');
    const tiers = newPath();
    const keys = newPath();
    await register(target, other, tiers, ['organization.tier_changed']);
    await register(target, other, keys, ['api_key.created']);
    await target.app.get(OrganizationsService).setTier(other.id, 'standard', { type: 'system', id: 'billing' });
    await createKey(other.key);
    const [tierEvent] = await receiver.until('the tier event', () => receiver.at(tiers).length >= 1 && receiver.at(tiers));
    expect(tierEvent.verified).toBe(true);
    expect(JSON.parse(tierEvent.body)).toMatchObject({
      type: 'organization.tier_changed',
      data: { organization_id: other.id, object: { type: 'organization', id: other.id }, actor: { type: 'system', id: 'billing' }, from: 'free', to: 'standard' },
    });
    const [keyEvent] = await receiver.until('the key event', () => receiver.at(keys).length >= 1 && receiver.at(keys));
    expect(JSON.parse(keyEvent.body).type).toBe('api_key.created');
    // nothing of org's own events, and nothing crossed over between the two endpoints
    expect([receiver.at(tiers).length, receiver.at(keys).length]).toEqual([1, 1]);
  });

  it('never shows a secret again, and audits the endpoint changes', async () => {
    const hook = newPath();
    const endpoint = await register(target, org, hook, ['api_key.leaked']);
    const read = await target.http.get(`/v1/webhooks/${endpoint.id}`).set(bearer(org.key));
    const listed = await target.http.get('/v1/webhooks?limit=100').set(bearer(org.key));
    expect(read.status).toBe(200);
    expect(JSON.stringify([read.body, listed.body])).not.toContain(endpoint.secret.slice('whsec_'.length));
    expect(read.body.secret).toBeUndefined();
    expect(listed.body.data.map((item: Endpoint) => item.id)).toContain(endpoint.id);

    expect((await target.http.post(`/v1/webhooks/${endpoint.id}/rotate-secret`).set(bearer(org.key)).send({})).status).toBe(201);
    expect((await target.http.delete(`/v1/webhooks/${endpoint.id}`).set(bearer(org.key))).status).toBe(204);
    expectEnvelope(await target.http.get(`/v1/webhooks/${endpoint.id}`).set(bearer(org.key)), 404, 'NOT_FOUND');
    const events = await target.http.get('/v1/audit/events?limit=100').set(bearer(org.key));
    const mine = (events.body.data as Array<{ type: string; target: { id: string } }>).filter((event) => event.target.id === endpoint.id);
    expect(mine.map((event) => event.type)).toEqual(['webhook.deleted', 'webhook.secret_rotated', 'webhook.created']);
    expect(JSON.stringify(events.body)).not.toContain(endpoint.secret.slice('whsec_'.length));
  });

  it('signs with the new secret after rotate-secret, and with both during the grace period', async () => {
    const hook = newPath();
    const endpoint = await register(target, org, hook, ['api_key.created']);
    const rotated = await target.http.post(`/v1/webhooks/${endpoint.id}/rotate-secret`).set(bearer(org.key)).send({ grace_period_seconds: 0 });
    expect(rotated.status).toBe(201);
    expect(rotated.body.secret).not.toBe(endpoint.secret);
    receiver.expect(hook, rotated.body.secret);
    await createKey();
    const [first] = await receiver.until('the event after rotation', () => receiver.at(hook).length >= 1 && receiver.at(hook));
    expect(first.verified).toBe(true);
    expect(verifies(endpoint.secret, first.body, first.headers)).toBe(false);

    // with a grace period, two signatures: a receiver holding either secret accepts the message
    const again = await target.http.post(`/v1/webhooks/${endpoint.id}/rotate-secret`).set(bearer(org.key));
    expect(again.status).toBe(201);
    expect(again.body.previous_secret_expires_at).toEqual(expect.any(String));
    await createKey();
    const second = (await receiver.until('the event in the grace period', () => receiver.at(hook).length >= 2 && receiver.at(hook)))[1];
    expect(second.headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(verifies(again.body.secret, second.body, second.headers)).toBe(true);
    expect(verifies(rotated.body.secret, second.body, second.headers)).toBe(true);
    expect(verifies(endpoint.secret, second.body, second.headers)).toBe(false);
  });

  it('retries a receiver that answers 500 until it recovers, every attempt listed', async () => {
    const hook = newPath();
    const endpoint = await register(target, org, hook, ['api_key.created'], (n) => (n < 2 ? 500 : 200));
    await createKey();
    const got = await receiver.until('the third attempt', () => receiver.at(hook).length >= 3 && receiver.at(hook));
    // the same message each time: same id, same body, each freshly signed
    expect(new Set(got.map((request) => request.headers['webhook-id'])).size).toBe(1);
    expect(new Set(got.map((request) => request.body)).size).toBe(1);
    expect(got.every((request) => request.verified)).toBe(true);
    const attempts = await waitFor('three recorded attempts', async () => {
      const listed = await attemptsOf(endpoint);
      return listed.length === 3 && listed;
    });
    expect(attempts.map((attempt) => [attempt.attempt, attempt.status_code, attempt.failure, attempt.outcome])).toEqual([
      [1, 500, 'http_status', 'retrying'],
      [2, 500, 'http_status', 'retrying'],
      [3, 200, null, 'delivered'],
    ]);
    // each retry waited at least half its backoff (100 ms, then 200 ms, with jitter)
    expect(got[1].receivedAt - got[0].receivedAt).toBeGreaterThanOrEqual(FAST.backoffBaseMs / 2 - 10);
    expect(got[2].receivedAt - got[1].receivedAt).toBeGreaterThanOrEqual(FAST.backoffBaseMs - 10);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.at(hook)).toHaveLength(3);
  });

  it('records a receiver that hangs as a timeout, and retries it', async () => {
    const hook = newPath();
    const endpoint = await register(target, org, hook, ['api_key.created'], (n) => (n === 0 ? 'hold' : 204));
    await createKey();
    await receiver.until('the retry after the timeout', () => receiver.at(hook).length >= 2);
    const attempts = await waitFor('two recorded attempts', async () => {
      const listed = await attemptsOf(endpoint);
      return listed.length === 2 && listed;
    });
    expect(attempts.map((attempt) => [attempt.attempt, attempt.status_code, attempt.failure, attempt.outcome])).toEqual([
      [1, null, 'timeout', 'retrying'],
      [2, 204, null, 'delivered'],
    ]);
    expect(attempts[0].duration_ms).toBeGreaterThanOrEqual(FAST.timeoutMs - 50);
    expect(attempts[0].duration_ms).toBeLessThan(FAST.timeoutMs + 1_000);
  });

  it('keeps delivering to other endpoints while one receiver hangs', async () => {
    const hanging = newPath();
    const healthy = newPath();
    await register(target, org, hanging, ['api_key.created'], () => 'hold');
    await register(target, org, healthy, ['api_key.created']);
    await createKey();
    const held = (await receiver.until('the hanging receiver holding a request', () => receiver.at(hanging).length >= 1 && receiver.at(hanging)))[0];
    await createKey();
    const got = await receiver.until('both events at the healthy receiver', () => receiver.at(healthy).length >= 2 && receiver.at(healthy));
    // the second event did not wait for the hanging attempt to time out
    expect(got[1].receivedAt - held.receivedAt).toBeLessThan(FAST.timeoutMs);
  });

  it('gives up after the maximum age, and disables an endpoint that keeps failing (audited, re-enabled on request)', async () => {
    const hook = newPath();
    const endpoint = await register(target, org, hook, ['api_key.created'], () => 503);
    await createKey();
    await createKey();
    const disabled = await waitFor(
      'the endpoint disabled',
      async () => {
        const read = await target.http.get(`/v1/webhooks/${endpoint.id}`).set(bearer(org.key));
        return read.body.enabled === false && read.body;
      },
      FAST.maxAgeSeconds * 1000 + 8_000,
      100,
    );
    expect(disabled).toMatchObject({ enabled: false, disabled_at: expect.any(String), consecutive_failures: FAST.disableAfterFailures });
    const attempts = await attemptsOf(endpoint);
    const finals = attempts.filter((attempt) => attempt.outcome === 'gave_up');
    expect(finals).toHaveLength(2);
    // retried for the whole maximum age, not beyond
    const span = Date.parse(finals[0].attempted_at as string) - Date.parse(attempts[0].attempted_at as string);
    expect(span).toBeGreaterThanOrEqual(FAST.maxAgeSeconds * 1000 - 200);
    expect(span).toBeLessThan(FAST.maxAgeSeconds * 1000 + 4_000);
    const events = await target.http.get('/v1/audit/events?type=webhook.disabled').set(bearer(org.key));
    expect(events.body.data.map((event: { target: { id: string } }) => event.target.id)).toContain(endpoint.id);

    // disabled: new events do not reach it; enabled again: they do
    const before = receiver.at(hook).length;
    await createKey();
    receiver.expect(hook, endpoint.secret, () => 204);
    const enabled = await target.http.post(`/v1/webhooks/${endpoint.id}/enable`).set(bearer(org.key));
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ enabled: true, disabled_at: null, consecutive_failures: 0 });
    expect(receiver.at(hook)).toHaveLength(before);
    await createKey();
    await receiver.until('an event after re-enabling', () => receiver.at(hook).length === before + 1);
  });

  it('with two instances, delivers each event once to each endpoint', async () => {
    const second = await startApp(backend, { webhooks: FAST, rateLimit: { max: 100_000, windowSeconds: 60 } });
    try {
      const hooks = [newPath(), newPath()];
      for (const hook of hooks) await register(target, org, hook, ['api_key.created']);
      const made = [];
      for (let i = 0; i < 12; i++) made.push(await createKey(org.key, i % 2 === 0 ? target : second));
      for (const hook of hooks) {
        const got = await receiver.until(`12 events at ${hook}`, () => receiver.at(hook).length >= 12 && receiver.at(hook));
        expect(got.every((request) => request.verified)).toBe(true);
        const keyIds = got.map((request) => JSON.parse(request.body).data.object.id as string);
        expect(keyIds.sort()).toEqual(made.map((key) => key.id).sort());
      }
      // nothing more comes: no duplicate was still in flight
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (const hook of hooks) expect(receiver.at(hook)).toHaveLength(12);
    } finally {
      await second.close();
    }
  });

  it('completes on another instance, after the lease, a delivery whose instance was killed mid-request', async () => {
    await ensureBuilt();
    await target.close(); // only the child may claim the delivery first
    const env = {
      DATABASE_URL: backend.databaseUrl,
      REDIS_URL: backend.redisUrl,
      WEBHOOK_SECRETS_KEY: KEY.toString('base64'),
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_TIMEOUT_MS: String(FAST.timeoutMs * 2),
      WEBHOOK_POLL_INTERVAL_MS: '50',
      LOG_LEVEL: 'silent',
    };
    const organization = await admin<{ id: string }>(env, 'org', 'create', '--name', 'Killed instance org');
    const seeded = await admin<{ id: string; key: string }>(env, 'key', 'create', '--org', organization.id, '--name', 'k');
    const child = new ServiceProcess(await freePort(), env);
    try {
      await child.ready();
      const hook = newPath();
      const created = await fetch(`${child.url}/v1/webhooks`, {
        method: 'POST',
        headers: { ...bearer(seeded.key), 'content-type': 'application/json' },
        body: JSON.stringify({ url: receiver.url(hook), event_types: ['api_key.created'] }),
      });
      expect(created.status).toBe(201);
      const endpoint = (await created.json()) as Endpoint;
      receiver.expect(hook, endpoint.secret, (n) => (n === 0 ? 'hold' : 204));
      const key = await fetch(`${child.url}/v1/api-keys`, {
        method: 'POST',
        headers: { ...bearer(seeded.key), 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'made before the crash' }),
      });
      expect(key.status).toBe(201);
      await receiver.until('the delivery held by the receiver', () => receiver.at(hook).length === 1);
      child.kill();
      await child.exited;
      const killedAt = Date.now();

      target = await startApp(backend, { webhooks: FAST, rateLimit: { max: 100_000, windowSeconds: 60 } });
      const got = await receiver.until('the delivery completed elsewhere', () => receiver.at(hook).length === 2 && receiver.at(hook), 20_000);
      expect(got[1].headers['webhook-id']).toBe(got[0].headers['webhook-id']);
      expect(got.every((request) => request.verified)).toBe(true);
      // not before the child's lease (twice its timeout from the claim) ran out
      expect(got[1].receivedAt - got[0].receivedAt).toBeGreaterThanOrEqual(FAST.timeoutMs * 4 - 1_000);
      expect(got[1].receivedAt).toBeGreaterThanOrEqual(killedAt);
      // the killed attempt left no record; the one that completed it is number 2
      const attempts = await waitFor('the attempt recorded', async () => {
        const listed = await attemptsOf(endpoint, seeded.key);
        return listed.length > 0 && listed;
      });
      expect(attempts.map((attempt) => [attempt.attempt, attempt.status_code, attempt.outcome])).toEqual([[2, 204, 'delivered']]);
    } finally {
      child.kill();
    }
  }, 120_000);
});
