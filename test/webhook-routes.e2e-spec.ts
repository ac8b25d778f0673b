import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newId } from '../src/database/ids';
import { PrismaService } from '../src/database/prisma.service';
import { WebhookWorker } from '../src/webhooks/delivery/webhook-worker';
import { KEY_FILE, WebhookSecrets } from '../src/webhooks/webhook-secrets';
import { generateSigningSecret } from '../src/webhooks/webhook-signer';
import { LogCapture } from './support/log-capture';
import { LinkedOrganization, linkedOrganization } from './support/matrix-organizations';
import { StytchFixture, hideStytchBaseUrlWarning } from './support/stytch-fixture';
import { Backend, TestApp, backends, bearer, expectEnvelope, seedOrganization, sharedBackend, startApp } from './support/test-app';
import { WebhookReceiver, fastWebhooks } from './support/webhook-receiver';
import { waitFor } from './support/waiting';

/**
 * The /v1/webhooks routes on every backend: who may call them, hostile input, other
 * organizations' ids; then what differs by mode — private targets refused, the embedded key
 * kept in DATA_DIR, PostgreSQL without WEBHOOK_SECRETS_KEY. Deliveries: webhooks.e2e-spec.ts.
 */

const ENDPOINT_ID = /^whk_[0-9a-f]{28}$/;

beforeAll(hideStytchBaseUrlWarning);

describe.each(backends())('webhook routes on $name', (backend: Backend) => {
  let target: TestApp;
  let fixture: StytchFixture;
  let a: LinkedOrganization;
  let b: LinkedOrganization;
  let receiver: WebhookReceiver;
  let endpointOfA: { id: string; secret: string };

  const create = (secret: string, body: unknown) => target.http.post('/v1/webhooks').set(bearer(secret)).send(body as object);

  beforeAll(async () => {
    fixture = await StytchFixture.start();
    receiver = await WebhookReceiver.start();
    target = await startApp(backend, { stytch: fixture.config, webhooks: fastWebhooks(randomBytes(32)), rateLimit: { max: 100_000, windowSeconds: 60 } });
    a = await linkedOrganization(target, fixture, 'Webhook org A');
    b = await linkedOrganization(target, fixture, 'Webhook org B');
    const made = await create(a.key, { url: receiver.url('/a'), event_types: ['organization.tier_changed'] });
    expect(made.status).toBe(201);
    endpointOfA = made.body;
  });
  afterAll(async () => {
    await target?.close();
    await receiver?.close();
    await fixture?.close();
  });

  it('lets key managers in and keeps plain members out of every route, reads included', async () => {
    const admin = await create(await a.adminToken(), { url: receiver.url('/admin'), event_types: ['api_key.created'] });
    expect(admin.status).toBe(201);
    expect(admin.body.id).toMatch(ENDPOINT_ID);
    const member = bearer(await a.memberToken());
    for (const call of [
      target.http.post('/v1/webhooks').send({ url: receiver.url('/m'), event_types: ['api_key.created'] }),
      target.http.get('/v1/webhooks'),
      target.http.get(`/v1/webhooks/${endpointOfA.id}`),
      target.http.get(`/v1/webhooks/${endpointOfA.id}/deliveries`),
      target.http.post(`/v1/webhooks/${endpointOfA.id}/rotate-secret`),
      target.http.post(`/v1/webhooks/${endpointOfA.id}/enable`),
      target.http.delete(`/v1/webhooks/${endpointOfA.id}`),
    ]) {
      expectEnvelope(await call.set(member), 403, 'FORBIDDEN');
    }
    expectEnvelope(await target.http.get('/v1/webhooks'), 401, 'UNAUTHORIZED');
    expect((await target.http.get(`/v1/webhooks/${endpointOfA.id}`).set(bearer(a.key))).status).toBe(200);
  });

  it("answers another organization's endpoint ids 404, as unknown and malformed ones, and changes nothing", async () => {
    const before = (await target.http.get(`/v1/webhooks/${endpointOfA.id}`).set(bearer(a.key))).body;
    const unknown = newId('whk');
    for (const id of [endpointOfA.id, unknown, 'whk_1', "whk_'%20OR%201=1--", 'x'.repeat(300)]) {
      for (const call of [
        target.http.get(`/v1/webhooks/${id}`),
        target.http.get(`/v1/webhooks/${id}/deliveries`),
        target.http.post(`/v1/webhooks/${id}/rotate-secret`),
        target.http.post(`/v1/webhooks/${id}/enable`),
        target.http.delete(`/v1/webhooks/${id}`),
      ]) {
        const response = await call.set(bearer(b.key));
        expect({ id, status: response.status, code: response.body.error?.code }).toEqual({ id, status: 404, code: 'NOT_FOUND' });
      }
    }
    const listed = await target.http.get('/v1/webhooks').set(bearer(b.key));
    expect(listed.body.data.map((item: { id: string }) => item.id)).not.toContain(endpointOfA.id);
    expect((await target.http.get(`/v1/webhooks/${endpointOfA.id}`).set(bearer(a.key))).body).toEqual(before);
  });

  it('refuses hostile bodies with the envelope and a clear message', async () => {
    const url = receiver.url('/hostile');
    const cases: [string, unknown, string][] = [
      ['no url', { event_types: ['api_key.created'] }, 'url'],
      ['not a URL', { url: 'not a url', event_types: ['api_key.created'] }, 'url'],
      ['an ftp URL', { url: 'ftp://example.com/x', event_types: ['api_key.created'] }, 'url'],
      ['a javascript URL', { url: 'javascript:alert(1)', event_types: ['api_key.created'] }, 'url'],
      ['credentials in the URL', { url: 'https://user:pw@example.com/x', event_types: ['api_key.created'] }, 'url'],
      ['a 5000-character URL', { url: `https://example.com/${'a'.repeat(5000)}`, event_types: ['api_key.created'] }, 'url'],
      ['a number as URL', { url: 42, event_types: ['api_key.created'] }, 'url'],
      ['no event types', { url, event_types: [] }, 'event_types'],
      ['an unknown event type', { url, event_types: ['api_key.exploded'] }, 'event_types'],
      ['an audit-only event type', { url, event_types: ['webhook.created'] }, 'event_types'],
      ['event types as a string', { url, event_types: 'api_key.created' }, 'event_types'],
      ['duplicated event types', { url, event_types: ['api_key.created', 'api_key.created'] }, 'event_types'],
      ['10 000 event types', { url, event_types: Array(10_000).fill('api_key.created') }, 'event_types'],
      ['null in event types', { url, event_types: [null] }, 'event_types'],
      ['an unknown field', { url, event_types: ['api_key.created'], secret: 'whsec_mine' }, 'secret'],
    ];
    for (const [name, body, field] of cases) {
      const response = await create(a.key, body);
      expect({ name, status: response.status, code: response.body.error?.code }).toEqual({ name, status: 400, code: 'VALIDATION_FAILED' });
      expect({ name, fields: (response.body.error.details ?? []).map((d: { field: string }) => d.field) }).toMatchObject({ name, fields: expect.arrayContaining([field]) });
    }
    for (const grace of [-1, 604_801, 'soon', 1.5]) {
      const response = await target.http.post(`/v1/webhooks/${endpointOfA.id}/rotate-secret`).set(bearer(a.key)).send({ grace_period_seconds: grace });
      expectEnvelope(response, 400, 'VALIDATION_FAILED');
    }
    const cursor = await target.http.get('/v1/webhooks?cursor=nope&limit=1000').set(bearer(a.key));
    expectEnvelope(cursor, 400, 'VALIDATION_FAILED');
  });

  it('holds an organization to 20 endpoints (409), counted per organization', async () => {
    const org = await seedOrganization(target, 'free', 'Many hooks');
    for (let i = 0; i < 20; i++) expect((await create(org.key, { url: receiver.url(`/many/${i}`), event_types: ['api_key.created'] })).status).toBe(201);
    expectEnvelope(await create(org.key, { url: receiver.url('/many/21'), event_types: ['api_key.created'] }), 409, 'CONFLICT');
    const page = await target.http.get('/v1/webhooks?limit=15').set(bearer(org.key));
    const rest = await target.http.get(`/v1/webhooks?limit=15&cursor=${page.body.next_cursor}`).set(bearer(org.key));
    expect([page.body.data.length, rest.body.data.length, rest.body.next_cursor]).toEqual([15, 5, null]);
  });
});

describe('webhook targets when private ones are not allowed (embedded; the check does not depend on the database)', () => {
  let target: TestApp;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    target = await startApp({ name: 'embedded', shared: false }, { webhooks: fastWebhooks(randomBytes(32), { allowPrivateTargets: false }) });
  });
  afterAll(async () => {
    await target?.close();
    await receiver?.close();
  });

  it.each([
    ['https://127.0.0.1/hook', 'loopback'],
    ['https://127.1.2.3:8443/hook', 'loopback'],
    ['https://localhost/hook', 'loopback'],
    ['https://[::1]/hook', 'loopback'],
    ['https://[::ffff:127.0.0.1]/hook', 'loopback'],
    ['https://169.254.169.254/latest/meta-data', 'link-local'],
    ['https://[fe80::1]/hook', 'link-local'],
    ['https://10.0.0.8/hook', 'private'],
    ['https://192.168.1.1/hook', 'private'],
    ['https://172.20.0.1/hook', 'private'],
    ['https://[fd00::1]/hook', 'unique-local'],
    ['https://100.64.0.1/hook', 'carrier-grade NAT'],
    ['https://0.0.0.0/hook', 'unspecified'],
    ['https://224.0.0.1/hook', 'multicast'],
  ])('refuses %s at registration (%s)', async (url, range) => {
    const org = await seedOrganization(target);
    const response = await target.http.post('/v1/webhooks').set(bearer(org.key)).send({ url, event_types: ['api_key.created'] });
    const error = expectEnvelope(response, 400, 'VALIDATION_FAILED');
    expect(error.details).toEqual([{ field: 'url', message: expect.stringContaining(`a ${range} address`) }]);
  });

  it('refuses plain http:, and a name that does not resolve', async () => {
    const org = await seedOrganization(target);
    for (const [url, message] of [['http://example.com/hook', 'https://'], ['https://no-such-host.invalid/hook', 'could not be resolved']]) {
      const error = expectEnvelope(await target.http.post('/v1/webhooks').set(bearer(org.key)).send({ url, event_types: ['api_key.created'] }), 400, 'VALIDATION_FAILED');
      expect(error.details).toEqual([{ field: 'url', message: expect.stringContaining(message) }]);
    }
  });

  it('checks again at delivery, after resolving the name: an endpoint that now resolves privately gets nothing', async () => {
    const org = await seedOrganization(target);
    // As if its name had resolved publicly at registration and been repointed since (DNS rebinding).
    const id = newId('whk');
    const box = target.app.get(WebhookSecrets).box!;
    const hostile = receiver.url('/rebound').replace('http://127.0.0.1', 'https://localhost');
    await target.app.get(PrismaService).webhookEndpoint.create({
      data: { id, organizationId: org.id, url: hostile, eventTypes: ['api_key.created'], secretCiphertext: box.seal(generateSigningSecret(), id) },
    });
    target.app.get(WebhookWorker).wake();
    expect((await target.http.post('/v1/api-keys').set(bearer(org.key)).send({ name: 'k' })).status).toBe(201);
    const attempts = await waitFor('the refused attempt', async () => {
      const listed = await target.http.get(`/v1/webhooks/${id}/deliveries`).set(bearer(org.key));
      return listed.body.data.length > 0 && listed.body.data;
    });
    expect(attempts[0]).toMatchObject({ attempt: 1, status_code: null, failure: 'address_refused', outcome: 'retrying' });
    expect(receiver.requests).toEqual([]);
  });
});

describe('webhooks on embedded PostgreSQL without WEBHOOK_SECRETS_KEY', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lv-webhooks-'));
  let receiver: WebhookReceiver;
  beforeAll(async () => (receiver = await WebhookReceiver.start()));
  afterAll(async () => {
    await receiver?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('generates the key once into DATA_DIR (0600) and keeps delivering with the same secrets after a restart', async () => {
    const config = { dataDir, webhooks: fastWebhooks(randomBytes(32), { secretsKey: undefined }) };
    let target = await startApp({ name: 'embedded', shared: false }, config);
    const file = path.join(dataDir, KEY_FILE);
    let org;
    let endpoint;
    try {
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      org = await seedOrganization(target);
      endpoint = (await target.http.post('/v1/webhooks').set(bearer(org.key)).send({ url: receiver.url('/embedded'), event_types: ['api_key.created'] })).body;
      receiver.expect('/embedded', endpoint.secret);
      await target.http.post('/v1/api-keys').set(bearer(org.key)).send({ name: 'first' }).expect(201);
      await receiver.until('the first event', () => receiver.at('/embedded').length === 1);
    } finally {
      await target.close();
    }
    const key = fs.readFileSync(file, 'utf8');
    target = await startApp({ name: 'embedded', shared: false }, config);
    try {
      expect(fs.readFileSync(file, 'utf8')).toBe(key);
      await target.http.post('/v1/api-keys').set(bearer(org.key)).send({ name: 'after restart' }).expect(201);
      const got = await receiver.until('the event after the restart', () => receiver.at('/embedded').length === 2 && receiver.at('/embedded'));
      expect(got.map((request) => request.verified)).toEqual([true, true]);
    } finally {
      await target.close();
    }
  });
});

const shared = sharedBackend();
(shared ? describe : describe.skip)('webhooks on PostgreSQL: without WEBHOOK_SECRETS_KEY, and what the log shows', () => {
  let capture: LogCapture;
  beforeEach(() => (capture = LogCapture.start()));
  afterEach(() => capture.stop());

  it('says at start-up that webhooks are off, answers every webhook route 503 naming the variable; the rest of the service works', async () => {
    const target = await startApp(shared!, { logLevel: 'info' });
    try {
      expect(capture.lines().map((line) => line.msg)).toContainEqual(expect.stringContaining('Webhooks are off: WEBHOOK_SECRETS_KEY is not set'));
      const org = await seedOrganization(target);
      for (const call of [
        target.http.post('/v1/webhooks').send({ url: 'https://example.com/hook', event_types: ['api_key.created'] }),
        target.http.get('/v1/webhooks'),
        target.http.get(`/v1/webhooks/${newId('whk')}`),
        target.http.delete(`/v1/webhooks/${newId('whk')}`),
      ]) {
        const error = expectEnvelope(await call.set(bearer(org.key)), 503, 'SERVICE_UNAVAILABLE');
        expect(error.message).toContain('WEBHOOK_SECRETS_KEY');
      }
      expect((await target.http.post('/v1/api-keys').set(bearer(org.key)).send({ name: 'still fine' })).status).toBe(201);
    } finally {
      await target.close();
    }
  });

  it('never writes a signing secret or an endpoint URL to the log, failed attempts included', async () => {
    const receiver = await WebhookReceiver.start();
    const target = await startApp(shared!, { logLevel: 'debug', webhooks: fastWebhooks(randomBytes(32)) });
    try {
      const org = await seedOrganization(target);
      const hook = '/logged?token=url-token-0123456789';
      const created = await target.http.post('/v1/webhooks').set(bearer(org.key)).send({ url: receiver.url(hook), event_types: ['api_key.created'] });
      expect(created.status).toBe(201);
      receiver.expect(hook, created.body.secret, (n) => (n === 0 ? 500 : 204));
      const rotated = await target.http.post(`/v1/webhooks/${created.body.id}/rotate-secret`).set(bearer(org.key)).send({});
      receiver.expect(hook, rotated.body.secret, (n) => (n === 0 ? 500 : 204));
      await target.http.post('/v1/api-keys').set(bearer(org.key)).send({ name: 'logged' }).expect(201);
      await receiver.until('the retried delivery', () => receiver.at(hook).length === 2);
      await waitFor('the failed attempt logged', async () => capture.lines().some((line) => line.msg === 'Webhook attempt failed'));
      for (const secret of [created.body.secret, rotated.body.secret]) expect(capture.text).not.toContain(secret.slice('whsec_'.length));
      expect(capture.text).not.toContain('url-token-0123456789');
    } finally {
      await target.close();
      await receiver.close();
    }
  });
});
