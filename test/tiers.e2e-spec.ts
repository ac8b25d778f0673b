import { OrganizationsService } from '../src/organizations/organizations.service';
import { Backend, SeededOrganization, TestApp, backends, bearer, expectEnvelope, seedOrganization, sharedBackend, startApp } from './support/test-app';

const GATED = ['/v1/compliance', '/v1/audit', '/v1/provenance', '/v1/model-cards', '/v1/certifications'];
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const COLLECTIONS = [
  { path: '/v1/model-cards', object: 'model_card' },
  { path: '/v1/compliance', object: 'compliance_assessment' },
  { path: '/v1/certifications', object: 'certification_report' },
];

describe.each(backends({ cluster: true }))('tiers and the resources behind the gate on $name', (backend: Backend) => {
  let target: TestApp;
  let free: SeededOrganization;
  let standard: SeededOrganization;
  let enterprise: SeededOrganization;
  let otherEnterprise: SeededOrganization;

  beforeAll(async () => {
    // these tests send hundreds of requests per key; the limiter has its own suite
    target = await startApp(backend, { rateLimit: { max: 100_000, windowSeconds: 60 } });
    free = await seedOrganization(target, 'free');
    standard = await seedOrganization(target, 'standard');
    enterprise = await seedOrganization(target, 'enterprise');
    otherEnterprise = await seedOrganization(target, 'enterprise');
  });
  afterAll(() => target.close());

  it('answers every gated path, method and depth 403 ENTERPRISE_REQUIRED below enterprise', async () => {
    const paths = [
      ...GATED.flatMap((prefix) => [prefix, `${prefix}/`, `${prefix}/events`, `${prefix}/unknown/deeper/path`, `${prefix}/mc_0000000000000000000000000000?x=1`]),
      '/v1/%61udit/events',
    ];
    for (const organization of [free, standard]) {
      for (const path of paths) {
        for (const method of METHODS) {
          const response = await target.http[method](path).set(bearer(organization.key)).send(method === 'get' || method === 'delete' ? undefined : {});
          if (response.status !== 403) throw new Error(`${method.toUpperCase()} ${path} answered ${response.status}`);
          const error = expectEnvelope(response, 403, 'ENTERPRISE_REQUIRED');
          expect(error.message).toBe('This endpoint requires an Enterprise tier subscription.');
          expect(error.upgrade_url).toBe('https://validate.lucitra.ai/settings/billing');
        }
      }
    }
  });

  it('still asks for credentials first on gated paths', async () => {
    expectEnvelope(await target.http.get('/v1/audit/events'), 401, 'UNAUTHORIZED');
  });

  it('does not gate look-alike paths', async () => {
    for (const path of ['/v1/auditing', '/v1/model-cardsx', '/v1/compliance-report', '/v2/audit/events', '/audit']) {
      expectEnvelope(await target.http.get(path).set(bearer(free.key)), 404, 'NOT_FOUND');
    }
  });

  it('lets an enterprise organization reach every capability', async () => {
    const auth = bearer(enterprise.key);
    for (const { path, object } of COLLECTIONS) {
      const created = await target.http.post(path).set(auth).send({ name: 'Q3 review', data: { status: 'draft', nested: { ok: true } } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ object, name: 'Q3 review', data: { status: 'draft', nested: { ok: true } } });
      expect((await target.http.get(`${path}/${created.body.id}`).set(auth)).body.id).toBe(created.body.id);
      expect((await target.http.get(path).set(auth)).body.data.map((row: { id: string }) => row.id)).toContain(created.body.id);
      expect((await target.http.delete(`${path}/${created.body.id}`).set(auth)).status).toBe(204);
      expectEnvelope(await target.http.get(`${path}/${created.body.id}`).set(auth), 404, 'NOT_FOUND');
      expectEnvelope(await target.http.get(`${path}/nope`).set(auth), 404, 'NOT_FOUND');
    }
    expect((await target.http.get('/v1/audit/events').set(auth)).status).toBe(200);
    // an enterprise organization on an unknown sub-path gets an ordinary 404
    expectEnvelope(await target.http.get('/v1/audit/unknown').set(auth), 404, 'NOT_FOUND');
  });

  it('validates record data as a bounded JSON object', async () => {
    const auth = bearer(enterprise.key);
    for (const data of [[1, 2], 'text', null, 42]) {
      expectEnvelope(await target.http.post('/v1/model-cards').set(auth).send({ name: 'x', data }), 400, 'VALIDATION_FAILED');
    }
    expectEnvelope(await target.http.post('/v1/model-cards').set(auth).send({ name: 'x', data: { big: 'y'.repeat(70_000) } }), 400, 'VALIDATION_FAILED');
  });

  it('keeps provenance append-only and about a dataset or model card of the organization', async () => {
    const auth = bearer(enterprise.key);
    const dataset = await target.http.post('/v1/datasets').set(auth).send({ name: 'scenes' });
    const card = await target.http.post('/v1/model-cards').set(auth).send({ name: 'card', data: {} });
    for (const subject of [{ type: 'dataset', id: dataset.body.id }, { type: 'model_card', id: card.body.id }]) {
      const record = await target.http.post('/v1/provenance').set(auth).send({ name: 'origin', data: { source: 's3' }, subject });
      expect(record.status).toBe(201);
      expect(record.body.subject).toEqual(subject);
      expectEnvelope(await target.http.delete(`/v1/provenance/${record.body.id}`).set(auth), 405, 'METHOD_NOT_ALLOWED');
      expectEnvelope(await target.http.put(`/v1/provenance/${record.body.id}`).set(auth).send({}), 405, 'METHOD_NOT_ALLOWED');
    }
    expectEnvelope(await target.http.post('/v1/provenance').set(auth).send({ name: 'origin', data: {} }), 400, 'VALIDATION_FAILED');
    // another organization's dataset is as unknown as a missing one
    const foreign = await target.http.post('/v1/datasets').set(bearer(otherEnterprise.key)).send({ name: 'theirs' });
    const response = await target.http.post('/v1/provenance').set(auth).send({ name: 'x', data: {}, subject: { type: 'dataset', id: foreign.body.id } });
    expectEnvelope(response, 404, 'NOT_FOUND');
  });

  it('serves datasets on every tier, scoped to the organization', async () => {
    const mine = await target.http.post('/v1/datasets').set(bearer(free.key)).send({ name: 'mine', description: 'd' });
    expect(mine.status).toBe(201);
    expect(mine.body).toMatchObject({ object: 'dataset', name: 'mine', description: 'd' });
    const theirs = bearer(standard.key);
    for (const call of [target.http.get(`/v1/datasets/${mine.body.id}`), target.http.delete(`/v1/datasets/${mine.body.id}`)]) {
      expectEnvelope(await call.set(theirs), 404, 'NOT_FOUND');
    }
    expect((await target.http.get('/v1/datasets').set(theirs)).body.data.map((d: { id: string }) => d.id)).not.toContain(mine.body.id);
    expect((await target.http.get(`/v1/datasets/${mine.body.id}`).set(bearer(free.key))).status).toBe(200);
    expect((await target.http.delete(`/v1/datasets/${mine.body.id}`).set(bearer(free.key))).status).toBe(204);
    expectEnvelope(await target.http.delete(`/v1/datasets/${mine.body.id}`).set(bearer(free.key)), 404, 'NOT_FOUND');
  });

  it('keeps every enterprise collection invisible to another organization', async () => {
    const mine = bearer(enterprise.key);
    const theirs = bearer(otherEnterprise.key);
    for (const { path } of COLLECTIONS) {
      const created = await target.http.post(path).set(mine).send({ name: 'private', data: {} });
      expectEnvelope(await target.http.get(`${path}/${created.body.id}`).set(theirs), 404, 'NOT_FOUND');
      expectEnvelope(await target.http.delete(`${path}/${created.body.id}`).set(theirs), 404, 'NOT_FOUND');
      expect((await target.http.get(path).set(theirs)).body.data.map((r: { id: string }) => r.id)).not.toContain(created.body.id);
      expect((await target.http.get(`${path}/${created.body.id}`).set(mine)).status).toBe(200);
    }
  });

  it('records audit events for key, tier and dataset changes, with the request id', async () => {
    const organization = await seedOrganization(target, 'free');
    const auth = bearer(organization.key);
    const keyResponse = await target.http.post('/v1/api-keys').set(auth).send({ name: 'audited' });
    const revokeResponse = await target.http.delete(`/v1/api-keys/${keyResponse.body.id}`).set(auth);
    const datasetResponse = await target.http.post('/v1/datasets').set(auth).send({ name: 'audited' });
    const deleteResponse = await target.http.delete(`/v1/datasets/${datasetResponse.body.id}`).set(auth);
    await target.app.get(OrganizationsService).setTier(organization.id, 'enterprise', { type: 'system', id: 'test' });

    const events = (await target.http.get('/v1/audit/events?limit=100').set(auth)).body.data as AuditEvent[];
    const byType = (type: string) => events.find((event) => event.type === type)!;
    expect(byType('api_key.created')).toMatchObject({
      actor: { type: 'api_key', id: organization.keyId },
      target: { type: 'api_key', id: keyResponse.body.id },
      request_id: keyResponse.headers['x-request-id'],
    });
    expect(byType('api_key.revoked').request_id).toBe(revokeResponse.headers['x-request-id']);
    expect(byType('dataset.created')).toMatchObject({ target: { type: 'dataset', id: datasetResponse.body.id }, request_id: datasetResponse.headers['x-request-id'] });
    expect(byType('dataset.deleted').request_id).toBe(deleteResponse.headers['x-request-id']);
    expect(byType('organization.tier_changed')).toMatchObject({ actor: { type: 'system', id: 'test' }, data: { from: 'free', to: 'enterprise' } });
    // newest first, and the contract's shape exactly
    expect(events.map((event) => event.id)).toEqual([...events.map((event) => event.id)].sort().reverse());
    expect(Object.keys(events[0]).sort()).toEqual(['actor', 'created_at', 'data', 'id', 'request_id', 'target', 'type']);
    expect(JSON.stringify(events)).not.toContain(keyResponse.body.key);
  });

  it('filters the audit trail by type and time, and pages it', async () => {
    const auth = bearer(enterprise.key);
    const before = new Date(Date.now() - 1000).toISOString();
    for (let i = 0; i < 3; i++) await target.http.post('/v1/datasets').set(auth).send({ name: `page ${i}` });
    const filtered = await target.http.get(`/v1/audit/events?type=dataset.created&since=${before}`).set(auth);
    expect(filtered.body.data.length).toBeGreaterThanOrEqual(3);
    expect(filtered.body.data.every((event: AuditEvent) => event.type === 'dataset.created')).toBe(true);
    const first = await target.http.get('/v1/audit/events?limit=2').set(auth);
    const second = await target.http.get(`/v1/audit/events?limit=2&cursor=${first.body.next_cursor}`).set(auth);
    expect(first.body.data).toHaveLength(2);
    expect(second.body.data[0].id < first.body.data[1].id).toBe(true);
    for (const query of ['type=DROP TABLE', 'since=yesterday', 'limit=0', 'limit=101', 'cursor=abc']) {
      expectEnvelope(await target.http.get(`/v1/audit/events?${query}`).set(auth), 400, 'VALIDATION_FAILED');
    }
  });
});

interface AuditEvent {
  id: string;
  type: string;
  actor: { type: string; id: string };
  target: { type: string; id: string };
  request_id: string | null;
  data: Record<string, unknown>;
}

const shared = sharedBackend();
(shared ? describe : describe.skip)('tier changes across instances', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await startApp(shared!);
    b = await startApp(shared!);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('takes effect on the next request on another instance, both ways', async () => {
    const organization = await seedOrganization(a, 'free');
    const auth = bearer(organization.key);
    const organizations = a.app.get(OrganizationsService);
    expectEnvelope(await b.http.get('/v1/audit/events').set(auth), 403, 'ENTERPRISE_REQUIRED');
    await organizations.setTier(organization.id, 'enterprise', { type: 'system', id: 'test' });
    expect((await b.http.get('/v1/audit/events').set(auth)).status).toBe(200);
    expect((await b.http.get('/v1/organization').set(auth)).body.tier).toBe('enterprise');
    await organizations.setTier(organization.id, 'standard', { type: 'system', id: 'test' });
    expectEnvelope(await b.http.get('/v1/audit/events').set(auth), 403, 'ENTERPRISE_REQUIRED');
  });
});
