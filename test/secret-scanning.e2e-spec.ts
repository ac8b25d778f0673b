import { createHash, randomBytes } from 'node:crypto';
import { generateKey } from '../src/api-keys/key-format';
import { ApiKeysService } from '../src/api-keys/api-keys.service';
import { AppConfig } from '../src/config/app-config';
import { GithubScanningFixture } from './support/github-scanning-fixture';
import { waitFor } from './support/waiting';
import { Backend, SeededOrganization, TestApp, backends, bearer, expectEnvelope, seedOrganization, startApp } from './support/test-app';

/**
 * GitHub's secret-scanning partner endpoint end to end: a local stand-in for GitHub's key document
 * and its signer, reports over HTTP, on every backend (and a second instance on the shared one).
 */

const ROUTE = '/v1/secret-scanning/github';
const TYPE = 'lucitra_api_key';
const QUIET: Partial<AppConfig> = { usageFlushIntervalMs: 600_000, authFailureMax: 1_000_000 };

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const publicUrl = () => `https://github.com/someone/project/blob/${randomBytes(8).toString('hex')}/config.env`;

interface Find {
  token: string;
  type: string;
  url: string;
  source: string;
}
const find = (token: string, url = publicUrl()): Find => ({ token, type: TYPE, url, source: 'content' });

describe.each(backends())('GitHub secret scanning on $name', (backend: Backend) => {
  let github: GithubScanningFixture;
  let target: TestApp;
  /** Another instance on the same backend, when it can be shared. */
  let second: TestApp | undefined;
  let org: SeededOrganization;

  function report(finds: unknown, on: TestApp = target) {
    const body = JSON.stringify(finds);
    return on.http.post(ROUTE).set(github.headers(body)).send(body);
  }
  async function newKey(organizationId: string, options: { expiresAt?: Date } = {}) {
    const created = await target.app.get(ApiKeysService).issue({ organizationId, name: 'leaky', ...options }, { type: 'system', id: 'test' });
    return { id: created.id, key: created.key };
  }
  async function leakedEvents(organization: SeededOrganization, keyId?: string) {
    const response = await target.http.get('/v1/audit/events?type=api_key.leaked&limit=100').set(bearer(organization.key));
    expect(response.status).toBe(200);
    const events = response.body.data as Array<{ target: { id: string }; actor: { type: string; id: string }; data: Record<string, unknown> }>;
    return keyId ? events.filter((event) => event.target.id === keyId) : events;
  }

  beforeAll(async () => {
    github = await GithubScanningFixture.start();
    const config = { ...QUIET, githubSecretScanningKeysUrl: github.url };
    target = await startApp(backend, config);
    if (backend.shared) second = await startApp(backend, config);
    // Enterprise: its audit trail can be read over the API.
    org = await seedOrganization(target, 'enterprise');
  });
  afterAll(async () => {
    await second?.close();
    await target?.close();
    await github?.close();
  });

  it('revokes a live key GitHub found: 200 true_positive, the key refused at its next request on every instance, audited with the URL', async () => {
    const leaked = await newKey(org.id);
    expect((await target.http.get('/v1/organization').set(bearer(leaked.key))).status).toBe(200);
    if (second) expect((await second.http.get('/v1/organization').set(bearer(leaked.key))).status).toBe(200);
    const where = find(leaked.key);

    const response = await report([where]);
    expect(response.status).toBe(200);
    expect(response.body).toEqual([{ token_hash: sha256(leaked.key), token_type: TYPE, label: 'true_positive' }]);
    expect(response.text).not.toContain(leaked.key);

    expectEnvelope(await target.http.get('/v1/organization').set(bearer(leaked.key)), 401, 'API_KEY_REVOKED');
    if (second) expectEnvelope(await second.http.get('/v1/organization').set(bearer(leaked.key)), 401, 'API_KEY_REVOKED');
    const [event] = await leakedEvents(org, leaked.id);
    expect(event).toMatchObject({
      actor: { type: 'system', id: 'github-secret-scanning' },
      data: { url: where.url, source: 'content', type: TYPE, action: 'revoked' },
    });
    const revoked = await target.http.get('/v1/audit/events?type=api_key.revoked').set(bearer(org.key));
    expect(revoked.body.data.map((entry: { target: { id: string } }) => entry.target.id)).toContain(leaked.id);
  });

  it('answers a replay with the same labels and records nothing more; the same key found elsewhere is recorded once more', async () => {
    const leaked = await newKey(org.id);
    const finds = [find(leaked.key), find(generateKey().secret), find('ghp_not_ours')];
    const first = await report(finds);
    expect(first.status).toBe(200);
    expect(first.body.map((entry: { label: string }) => entry.label)).toEqual(['true_positive', 'false_positive', 'false_positive']);
    for (let again = 0; again < 2; again++) {
      const replay = await report(finds);
      expect(replay.status).toBe(200);
      expect(replay.body).toEqual(first.body);
    }
    // the same find twice in one report, too
    expect((await report([finds[0], finds[0]])).body).toEqual([first.body[0], first.body[0]]);
    expect((await leakedEvents(org, leaked.id)).map((event) => event.data.action)).toEqual(['revoked']);

    const elsewhere = find(leaked.key);
    expect((await report([elsewhere])).body[0].label).toBe('true_positive');
    const events = await leakedEvents(org, leaked.id);
    expect(events.map((event) => [event.data.url, event.data.action])).toEqual([[elsewhere.url, 'already_revoked'], [finds[0].url, 'revoked']]);
  });

  it('labels a mix: live, revoked and expired keys of ours true, a well-formed key never issued and malformed tokens false', async () => {
    const live = await newKey(org.id);
    const revoked = await newKey(org.id);
    expect((await target.http.delete(`/v1/api-keys/${revoked.id}`).set(bearer(org.key))).status).toBe(200);
    const expired = await newKey(org.id, { expiresAt: new Date(Date.now() - 60_000) });
    const neverIssued = generateKey().secret;
    const badChecksum = `${live.key.slice(0, -1)}${live.key.endsWith('A') ? 'B' : 'A'}`;
    const tokens = [live.key, revoked.key, expired.key, neverIssued, badChecksum, 'luci_short', 'x'.repeat(1024), 'ünïcødé'];

    const response = await report(tokens.map((token) => find(token)));
    expect(response.status).toBe(200);
    expect(response.body).toEqual(
      tokens.map((token, index) => ({ token_hash: sha256(token), token_type: TYPE, label: index < 3 ? 'true_positive' : 'false_positive' })),
    );
    expect(response.text).not.toContain(live.key.slice(5));
    const actions = Object.fromEntries(
      (await leakedEvents(org)).filter((event) => [live.id, revoked.id, expired.id].includes(event.target.id)).map((event) => [event.target.id, event.data.action]),
    );
    expect(actions).toEqual({ [live.id]: 'revoked', [revoked.id]: 'already_revoked', [expired.id]: 'expired' });
  });

  it("leaves the key live when its organization chose notify, and records it; the choice is shown, set by key managers and audited", async () => {
    const notifying = await seedOrganization(target, 'enterprise', 'Notify org');
    expect((await target.http.get('/v1/organization').set(bearer(notifying.key))).body.leak_response).toBe('revoke');
    // the other instance holds the record in its cache: the change must reach it through the store's events
    if (second) expect((await second.http.get('/v1/organization').set(bearer(notifying.key))).body.leak_response).toBe('revoke');
    const patched = await target.http.patch('/v1/organization').set(bearer(notifying.key)).send({ leak_response: 'notify' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: notifying.id, leak_response: 'notify', tier: 'enterprise' });
    expect((await target.http.get('/v1/organization').set(bearer(notifying.key))).body.leak_response).toBe('notify');
    if (second) {
      const other = second;
      await waitFor('the other instance to show notify', async () =>
        (await other.http.get('/v1/organization').set(bearer(notifying.key))).body.leak_response === 'notify');
    }

    const leaked = await newKey(notifying.id);
    const where = find(leaked.key);
    expect((await report([where])).body[0].label).toBe('true_positive');
    expect((await target.http.get('/v1/organization').set(bearer(leaked.key))).status).toBe(200);
    expect((await leakedEvents(notifying, leaked.id)).map((event) => event.data)).toEqual([
      { url: where.url, source: 'content', type: TYPE, action: 'notified' },
    ]);
    const changes = await target.http.get('/v1/audit/events?type=organization.leak_response_changed').set(bearer(notifying.key));
    expect(changes.body.data.map((event: { data: unknown }) => event.data)).toEqual([{ from: 'revoke', to: 'notify' }]);

    // setting the same value again is not a change; anything else is refused
    expect((await target.http.patch('/v1/organization').set(bearer(notifying.key)).send({ leak_response: 'notify' })).status).toBe(200);
    const unchanged = await target.http.get('/v1/audit/events?type=organization.leak_response_changed').set(bearer(notifying.key));
    expect(unchanged.body.data).toHaveLength(1);
    for (const body of [{ leak_response: 'ignore' }, {}, { leak_response: 'revoke', tier: 'enterprise' }]) {
      expectEnvelope(await target.http.patch('/v1/organization').set(bearer(notifying.key)).send(body), 400, 'VALIDATION_FAILED');
    }
  });

  it('refuses with the 401 envelope: missing or malformed headers, an unknown key identifier, another key, a tampered body', async () => {
    const leaked = await newKey(org.id);
    const body = JSON.stringify([find(leaked.key)]);
    const good = github.headers(body);
    const attempts = {
      'no headers': target.http.post(ROUTE).set('Content-Type', 'application/json').send(body),
      'no signature': target.http.post(ROUTE).set({ ...good, 'Github-Public-Key-Signature': '' }).send(body),
      'no identifier': target.http.post(ROUTE).set({ ...good, 'Github-Public-Key-Identifier': '' }).send(body),
      'signature not base64': target.http.post(ROUTE).set({ ...good, 'Github-Public-Key-Signature': '!!not base64!!' }).send(body),
      'unknown identifier': target.http.post(ROUTE).set(github.headers(body, { identifier: 'f'.repeat(64) })).send(body),
      'signed by another key': target.http.post(ROUTE).set(github.headers(body, { byOutsider: true })).send(body),
      'tampered body': target.http.post(ROUTE).set(good).send(body.replace('content', 'commit')),
      'a bearer key instead': target.http.post(ROUTE).set({ ...bearer(org.key), 'Content-Type': 'application/json' }).send(body),
    };
    for (const [what, attempt] of Object.entries(attempts)) {
      const response = await attempt;
      expect({ what, status: response.status, code: response.body.error?.code }).toEqual({ what, status: 401, code: 'UNAUTHORIZED' });
      expectEnvelope(response, 401, 'UNAUTHORIZED');
      expect(response.headers['x-ratelimit-limit']).toBeUndefined();
    }
    // nothing happened to the key
    expect((await target.http.get('/v1/organization').set(bearer(leaked.key))).status).toBe(200);
    // only POST is left to the signature: other methods on the path ask for a credential, then 405
    expectEnvelope(await target.http.get(ROUTE).set(good), 401, 'UNAUTHORIZED');
    expectEnvelope(await target.http.delete(ROUTE).set(bearer(org.key)), 405, 'METHOD_NOT_ALLOWED');
  });

  it('downloads the key document again for an unknown identifier at most once per period', async () => {
    const body = JSON.stringify([find('ghp_x')]);
    const before = github.hits;
    for (let n = 0; n < 5; n++) {
      const response = await target.http.post(ROUTE).set(github.headers(body, { identifier: randomBytes(32).toString('hex') })).send(body);
      expect(response.status).toBe(401);
    }
    expect(github.hits - before).toBeLessThanOrEqual(1);
    expect((await report([find('ghp_x')])).status).toBe(200);
  });

  it('bounds the report: 413 past its token count or 1 MiB, 400 for a malformed body, a non-array or bad fields', async () => {
    const tooMany = Array.from({ length: 1001 }, () => find('ghp_x', 'https://github.com/a'));
    expectEnvelope(await report(tooMany), 413, 'PAYLOAD_TOO_LARGE');
    const huge = JSON.stringify([{ ...find('ghp_x'), source: 'x'.repeat(1024 * 1024) }]);
    expectEnvelope(await target.http.post(ROUTE).set(github.headers(huge)).send(huge), 413, 'PAYLOAD_TOO_LARGE');
    const broken = '[{"token": "luci_';
    expectEnvelope(await target.http.post(ROUTE).set(github.headers(broken)).send(broken), 400, 'VALIDATION_FAILED');
    expectEnvelope(await report({ token: 'x' }), 400, 'VALIDATION_FAILED');
    const bad = await report([{ token: 1, type: TYPE, url: 'https://github.com/a', source: 'content' }, { ...find('x'), url: 'u'.repeat(2049), extra: true }, 'x']);
    const error = expectEnvelope(bad, 400, 'VALIDATION_FAILED');
    expect(error.details).toEqual([
      { field: '[0].token', message: '[0].token must be a string' },
      { field: '[1].extra', message: '[1].extra is not a known field' },
      { field: '[1].url', message: '[1].url must be at most 2048 characters' },
      { field: '[2]', message: '[2] must be an object' },
    ]);
    expect((await report([])).body).toEqual([]);
  });
});

describe.each(backends())('GitHub secret scanning, GitHub unreachable or a caller guessing, on $name', (backend: Backend) => {
  let github: GithubScanningFixture;
  let down: GithubScanningFixture;
  /** Brake at 3 failures per address, the address from X-Forwarded-For. */
  let guarded: TestApp;
  /** Its key document is down from the start. */
  let cutOff: TestApp;

  beforeAll(async () => {
    github = await GithubScanningFixture.start();
    down = await GithubScanningFixture.start();
    down.failing = true;
    guarded = await startApp(backend, { ...QUIET, authFailureMax: 3, trustProxy: true, githubSecretScanningKeysUrl: github.url });
    cutOff = await startApp(backend, { ...QUIET, githubSecretScanningKeysUrl: down.url });
  });
  afterAll(async () => {
    await guarded?.close();
    await cutOff?.close();
    await github?.close();
    await down?.close();
  });

  it("refuses reports as retryable (503) while GitHub's key document cannot be had, calling it once per period; never accepts them unverified", async () => {
    const organization = await seedOrganization(cutOff);
    const body = JSON.stringify([find(organization.key)]);
    for (let n = 0; n < 3; n++) expectEnvelope(await cutOff.http.post(ROUTE).set(down.headers(body)).send(body), 503, 'SERVICE_UNAVAILABLE');
    expect(down.hits).toBe(1);
    expect((await cutOff.http.get('/v1/organization').set(bearer(organization.key))).status).toBe(200);
  });

  it('counts bad signatures toward the per-address brake: 429 once past AUTH_FAILURE_MAX, a genuine report still served', async () => {
    // an address of its own: the shared store's brake counts per address across instances and specs
    const ip = `10.${randomBytes(3).join('.')}`;
    const statuses: number[] = [];
    for (let n = 0; n < 6; n++) {
      // without headers (refused before the body is read), or signed by a key GitHub never published
      const headers = n % 2 === 0 ? { 'Content-Type': 'application/json' } : github.headers('[]', { byOutsider: true });
      statuses.push((await guarded.http.post(ROUTE).set({ ...headers, 'X-Forwarded-For': ip }).send('[]')).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
    expectEnvelope(await guarded.http.post(ROUTE).set({ 'X-Forwarded-For': ip }).send('[]'), 429, 'RATE_LIMITED');
    expect((await guarded.http.post(ROUTE).set({ ...github.headers('[]'), 'X-Forwarded-For': ip }).send('[]')).status).toBe(200);
  });
});
