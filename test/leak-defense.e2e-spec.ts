import { randomBytes } from 'node:crypto';
import { UsageFlusher } from '../src/api-keys/usage/usage-flusher';
import { HOUR_MS } from '../src/store/admission-store';
import { PrismaService } from '../src/database/prisma.service';
import { GithubScanningFixture } from './support/github-scanning-fixture';
import { Backend, SeededOrganization, TestApp, backends, bearer, expectEnvelope, seedOrganization, startApp } from './support/test-app';
import { WebhookReceiver, fastWebhooks } from './support/webhook-receiver';

/**
 * The whole loop, as an organization lives it: a key leaks into public code, GitHub reports it,
 * every instance refuses it from its next request, and the organization learns why — in its audit
 * trail and at its webhook endpoint (verified with the independent `standardwebhooks` package).
 * A key used like a stolen one is flagged and told the same way. On every backend with PostgreSQL
 * (webhook delivery needs the outbox's row locks across instances; embedded delivers too).
 */

const SECRETS_KEY = randomBytes(32);

describe.each(backends({ cluster: true }))('leak defense, detect → revoke → tell, on $name', (backend: Backend) => {
  let github: GithubScanningFixture;
  let receiver: WebhookReceiver;
  let a: TestApp;
  let b: TestApp | undefined;
  let org: SeededOrganization;
  const hook = '/leaks';

  beforeAll(async () => {
    github = await GithubScanningFixture.start();
    receiver = await WebhookReceiver.start();
    const config = {
      githubSecretScanningKeysUrl: github.url,
      webhooks: fastWebhooks(SECRETS_KEY),
      usageFlushIntervalMs: 600_000,
      trustProxy: true,
      usageSpike: { multiplier: 5, minRequests: 20, ipMultiplier: 5, minIps: 10 },
    };
    a = await startApp(backend, config);
    if (backend.shared) b = await startApp(backend, config);
    org = await seedOrganization(a, 'enterprise', 'Leaky org');
    const endpoint = await a.http.post('/v1/webhooks').set(bearer(org.key))
      .send({ url: receiver.url(hook), event_types: ['api_key.leaked', 'api_key.revoked', 'api_key.usage_spike'] });
    expect(endpoint.status).toBe(201);
    receiver.expect(hook, endpoint.body.secret);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await receiver?.close();
    await github?.close();
  });

  const eventsFor = (keyId: string, type: string) =>
    receiver.at(hook).filter((received) => {
      const body = JSON.parse(received.body) as { type: string; data: { object: { id: string } } };
      return body.type === type && body.data.object.id === keyId;
    });

  it('revokes a key found in public code on every instance at its next request, and tells the organization why', async () => {
    const leaked = (await a.http.post('/v1/api-keys').set(bearer(org.key)).send({ name: 'pushed to a public repo' })).body as { id: string; key: string };
    for (const target of [a, b]) if (target) expect((await target.http.get('/v1/organization').set(bearer(leaked.key))).status).toBe(200);

    const url = 'https://github.com/someone/app/blob/0123abc/.env';
    const body = JSON.stringify([{ token: leaked.key, type: 'lucitra_api_key', url, source: 'content' }]);
    const answer = await a.http.post('/v1/secret-scanning/github').set(github.headers(body)).send(body);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual([{ token_hash: expect.stringMatching(/^[0-9a-f]{64}$/), token_type: 'lucitra_api_key', label: 'true_positive' }]);

    for (const target of [a, b]) if (target) expectEnvelope(await target.http.get('/v1/organization').set(bearer(leaked.key)), 401, 'API_KEY_REVOKED');

    const trail = await a.http.get('/v1/audit/events?type=api_key.leaked').set(bearer(org.key));
    expect(trail.body.data.filter((event: { target: { id: string } }) => event.target.id === leaked.id)).toEqual([
      expect.objectContaining({ type: 'api_key.leaked', data: expect.objectContaining({ url, source: 'content', action: 'revoked' }) }),
    ]);

    await receiver.until('the leak and the revocation at the endpoint', () => eventsFor(leaked.id, 'api_key.leaked').length > 0 && eventsFor(leaked.id, 'api_key.revoked').length > 0);
    const [told] = eventsFor(leaked.id, 'api_key.leaked');
    expect(told.verified).toBe(true);
    expect(JSON.parse(told.body)).toMatchObject({ type: 'api_key.leaked', data: { organization_id: org.id, url, action: 'revoked' } });
    expect(told.body).not.toContain(leaked.key);
  });

  it('flags a key used from far more addresses than usual, and tells the organization', async () => {
    const stolen = (await a.http.post('/v1/api-keys').set(bearer(org.key)).send({ name: 'used from everywhere' })).body as { id: string; key: string };
    // a habit: a few requests from 2 addresses an hour, for the past day and more
    const prisma = a.app.get(PrismaService);
    const hour = Date.now() - (Date.now() % HOUR_MS);
    const past = Array.from({ length: 29 }, (_, n) => new Date(hour - (n + 2) * HOUR_MS));
    await prisma.apiKeyUsage.createMany({ data: past.map((minute) => ({ apiKeyId: stolen.id, organizationId: org.id, minute, requests: 4 })) });
    await prisma.apiKeyUsageHour.createMany({ data: past.map((at) => ({ apiKeyId: stolen.id, organizationId: org.id, hour: at, distinctIps: 2 })) });

    for (let n = 0; n < 30; n++) {
      const response = await (n % 2 === 0 || !b ? a : b).http.get('/v1/organization').set(bearer(stolen.key)).set('X-Forwarded-For', `203.0.113.${n + 1}`);
      expect(response.status).toBe(200);
    }
    await a.app.get(UsageFlusher).flush();
    if (b) await b.app.get(UsageFlusher).flush();

    await receiver.until('the usage spike at the endpoint', () => eventsFor(stolen.id, 'api_key.usage_spike').length > 0);
    const told = eventsFor(stolen.id, 'api_key.usage_spike');
    expect(told.every((received) => received.verified)).toBe(true);
    expect(JSON.parse(told[0].body)).toMatchObject({ type: 'api_key.usage_spike', data: { organization_id: org.id, kind: expect.any(String) } });
    const usage = await a.http.get(`/v1/api-keys/${stolen.id}/usage?granularity=hour`).set(bearer(org.key));
    expect(usage.body.flags.length).toBeGreaterThanOrEqual(1);
  });
});
