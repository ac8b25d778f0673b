import { randomUUID } from 'node:crypto';
import { PrismaService } from '../src/database/prisma.service';
import { OrganizationsService } from '../src/organizations/organizations.service';
import { StytchFixture, hideStytchBaseUrlWarning } from './support/stytch-fixture';
import { TestApp, backends, bearer, expectEnvelope, seedOrganization, sharedBackend, startApp } from './support/test-app';

/**
 * Dashboard sessions end to end: the real app with the real Stytch SDK, which downloads its keys
 * from a local JWKS server (the fixture) and verifies the RS256 session JWTs the fixture mints.
 */

const INVALID_SESSION = 'The session token is invalid or expired. Sign in again.';

beforeAll(hideStytchBaseUrlWarning);

interface Member {
  id: string;
  /** A fresh session JWT for this member, as an Authorization header. */
  auth(): Promise<{ Authorization: string }>;
}

/** A Stytch organization the app has not seen yet, whose members mint their own tokens. */
function stytchOrganization(fixture: StytchFixture) {
  const organizationId = `organization-test-${randomUUID()}`;
  const slug = `acme-${organizationId.slice(-8)}`;
  const member = (roles = ['stytch_member']): Member => {
    const memberId = `member-test-${randomUUID()}`;
    return { id: memberId, auth: async () => bearer(await fixture.mint({ memberId, organizationId, slug, roles })) };
  };
  return { organizationId, slug, member, admin: () => member(['stytch_member', 'stytch_admin']) };
}

async function organizationsOf(target: TestApp, stytchOrganizationId: string) {
  const all = await target.app.get(OrganizationsService).list();
  return all.filter((organization) => organization.stytchOrganizationId === stytchOrganizationId);
}

describe.each(backends({ cluster: true }))('dashboard sessions on $name', (backend) => {
  let fixture: StytchFixture;
  let target: TestApp;

  beforeAll(async () => {
    fixture = await StytchFixture.start();
    target = await startApp(backend, { stytch: fixture.config });
  });
  afterAll(async () => {
    await target?.close();
    await fixture?.close();
  });

  it('refuses every bad token with 401 INVALID_SESSION', async () => {
    for (const [name, token] of await fixture.badTokens()) {
      const response = await target.http.get('/v1/session').set(bearer(token));
      expect({ name, status: response.status, code: response.body.error?.code }).toEqual({ name, status: 401, code: 'INVALID_SESSION' });
      expect(expectEnvelope(response, 401, 'INVALID_SESSION').message).toBe(INVALID_SESSION);
    }
  });

  it('describes the session at GET /v1/session, with rate-limit headers', async () => {
    const organization = stytchOrganization(fixture);
    const admin = organization.admin();
    const response = await target.http.get('/v1/session').set(await admin.auth()).expect(200);
    expect(response.body).toEqual({
      member_id: admin.id,
      organization_id: expect.stringMatching(/^org_/),
      stytch_organization_id: organization.organizationId,
      organization_slug: organization.slug,
      roles: ['stytch_member', 'stytch_admin'],
      expires_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
    });
    expect(response.headers['x-ratelimit-limit']).toBe(String(target.config.rateLimit.max));
    expect(Number(response.headers['x-ratelimit-remaining'])).toBe(target.config.rateLimit.max - 1);
    expect(Number(response.headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000);
    expect(response.headers['ratelimit-policy']).toBeDefined();
  });

  it('answers GET /v1/session called with an API key with 403 FORBIDDEN', async () => {
    const seeded = await seedOrganization(target);
    const response = await target.http.get('/v1/session').set(bearer(seeded.key));
    expect(expectEnvelope(response, 403, 'FORBIDDEN').message).toMatch(/session/);
  });

  it('creates an organization (tier free, named from the slug) on first sight, and reuses it', async () => {
    const organization = stytchOrganization(fixture);
    expect(await organizationsOf(target, organization.organizationId)).toHaveLength(0);
    const first = await target.http.get('/v1/organization').set(await organization.member().auth()).expect(200);
    expect(first.body).toEqual({
      id: expect.stringMatching(/^org_/),
      name: organization.slug,
      tier: 'free',
      leak_response: 'revoke',
      stytch_organization_id: organization.organizationId,
      created_at: expect.any(String),
    });
    const second = await target.http.get('/v1/session').set(await organization.member().auth()).expect(200);
    expect(second.body.organization_id).toBe(first.body.id);
    expect(await organizationsOf(target, organization.organizationId)).toHaveLength(1);
    // its audit event names the request that brought it
    const events = await target.app.get(PrismaService).auditEvent.findMany({ where: { organizationId: first.body.id } });
    expect(events.map(({ type, actorType, actorId, requestId }) => ({ type, actorType, actorId, requestId }))).toEqual([
      { type: 'organization.created', actorType: 'system', actorId: 'stytch', requestId: first.headers['x-request-id'] },
    ]);
  });

  it('lets an admin create a key that works, and revoke it', async () => {
    const organization = stytchOrganization(fixture);
    const admin = organization.admin();
    const created = await target.http.post('/v1/api-keys').set(await admin.auth()).send({ name: 'CI pipeline' }).expect(201);
    expect(created.body.created_by).toEqual({ type: 'member', id: admin.id });
    expect(created.body.key).toMatch(/^luci_/);

    const session = await target.http.get('/v1/session').set(await admin.auth()).expect(200);
    const viaKey = await target.http.get('/v1/organization').set(bearer(created.body.key)).expect(200);
    expect(viaKey.body.id).toBe(session.body.organization_id);

    const revoked = await target.http.delete(`/v1/api-keys/${created.body.id}`).set(await admin.auth()).expect(200);
    expect(revoked.body.revoked_at).toEqual(expect.any(String));
    expectEnvelope(await target.http.get('/v1/organization').set(bearer(created.body.key)), 401, 'API_KEY_REVOKED');
  });

  it('lets a plain member list and read keys, but not create, rotate or revoke them', async () => {
    const organization = stytchOrganization(fixture);
    const created = await target.http.post('/v1/api-keys').set(await organization.admin().auth()).send({ name: 'shared' }).expect(201);
    const member = organization.member();

    const list = await target.http.get('/v1/api-keys').set(await member.auth()).expect(200);
    expect(list.body.data.map((key: { id: string }) => key.id)).toEqual([created.body.id]);
    await target.http.get(`/v1/api-keys/${created.body.id}`).set(await member.auth()).expect(200);

    expectEnvelope(await target.http.post('/v1/api-keys').set(await member.auth()).send({ name: 'mine' }), 403, 'FORBIDDEN');
    expectEnvelope(await target.http.post(`/v1/api-keys/${created.body.id}/rotate`).set(await member.auth()).send({}), 403, 'FORBIDDEN');
    expectEnvelope(await target.http.delete(`/v1/api-keys/${created.body.id}`).set(await member.auth()), 403, 'FORBIDDEN');
    // Nothing happened to the key.
    await target.http.get('/v1/organization').set(bearer(created.body.key)).expect(200);
  });

  it("lets an admin choose the organization's leak response, and refuses a plain member before reading the body", async () => {
    const organization = stytchOrganization(fixture);
    const member = await organization.member().auth();
    const refused = await target.http.patch('/v1/organization').set(member).send({ leak_response: 'notify' });
    expect(expectEnvelope(refused, 403, 'FORBIDDEN').message).toMatch(/role/);
    // refused before validation: an invalid body gets the same 403
    expectEnvelope(await target.http.patch('/v1/organization').set(member).send({ leak_response: 'whatever' }), 403, 'FORBIDDEN');
    const admin = await organization.admin().auth();
    const changed = await target.http.patch('/v1/organization').set(admin).send({ leak_response: 'notify' });
    expect(changed.status).toBe(200);
    expect(changed.body.leak_response).toBe('notify');
    expect((await target.http.get('/v1/organization').set(member)).body.leak_response).toBe('notify');
  });

  it('never shows one Stytch organization the keys of another', async () => {
    const [one, two] = [stytchOrganization(fixture).admin(), stytchOrganization(fixture).admin()];
    const keyOfOne = await target.http.post('/v1/api-keys').set(await one.auth()).send({ name: 'one' }).expect(201);
    const keyOfTwo = await target.http.post('/v1/api-keys').set(await two.auth()).send({ name: 'two' }).expect(201);

    expectEnvelope(await target.http.get(`/v1/api-keys/${keyOfOne.body.id}`).set(await two.auth()), 404, 'NOT_FOUND');
    expectEnvelope(await target.http.delete(`/v1/api-keys/${keyOfOne.body.id}`).set(await two.auth()), 404, 'NOT_FOUND');
    const idsOf = async (member: Member) =>
      (await target.http.get('/v1/api-keys').set(await member.auth()).expect(200)).body.data.map((key: { id: string }) => key.id);
    expect(await idsOf(one)).toEqual([keyOfOne.body.id]);
    expect(await idsOf(two)).toEqual([keyOfTwo.body.id]);
    await target.http.get('/v1/organization').set(bearer(keyOfOne.body.key)).expect(200);
  });

  it('makes no JWKS request per session once the keys are cached', async () => {
    const organization = stytchOrganization(fixture);
    await target.http.get('/v1/session').set(await organization.member().auth()).expect(200);
    const hits = fixture.hits;
    expect(hits).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 20; i += 1) {
      await target.http.get('/v1/session').set(await organization.member().auth()).expect(200);
    }
    expect(fixture.hits).toBe(hits);
  });

  // Last in this block: it moves the clock forward.
  it('picks up a rotated signing key (new kid) without a restart', async () => {
    const member = stytchOrganization(fixture).member();
    const beforeRotation = await member.auth();
    // Whether or not this unknown kid made us download the keys again, the last download is now
    // less than 30 s old — the interval in which they are not downloaded again.
    await target.http.get('/v1/session').set(bearer(await fixture.mint({ unknownKid: true }))).expect(401);

    await fixture.rotate();
    const hits = fixture.hits;
    expectEnvelope(await target.http.get('/v1/session').set(await member.auth()), 401, 'INVALID_SESSION');
    expect(fixture.hits).toBe(hits);

    // 31 s later the new kid makes us download the keys again.
    jumpClock(31_000);
    try {
      await target.http.get('/v1/session').set(await member.auth()).expect(200);
      expect(fixture.hits).toBe(hits + 1);
      // Stytch keeps publishing the old key for a while: tokens it signed still pass, from the cache.
      await target.http.get('/v1/session').set(beforeRotation).expect(200);
      await target.http.get('/v1/session').set(await member.auth()).expect(200);
      expect(fixture.hits).toBe(hits + 1);
    } finally {
      jest.useRealTimers();
    }
  });
});

/** Moves Date (only Date) forward: the app's timers, sockets and database keep real time. */
function jumpClock(milliseconds: number): void {
  jest.useFakeTimers({
    now: Date.now() + milliseconds,
    advanceTimers: true,
    doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'],
  });
}

describe.each(backends({ cluster: true }))('dashboard sessions with other configurations on $name', (backend) => {
  // Each test starts its own app (its configuration differs); all are closed at the end.
  const opened: Array<{ close(): Promise<void> }> = [];
  const keep = <T extends { close(): Promise<void> }>(resource: T): T => {
    opened.push(resource);
    return resource;
  };
  afterAll(async () => {
    for (const resource of opened.reverse()) await resource.close();
  });

  it('refuses sessions with INVALID_SESSION when Stytch is not configured', async () => {
    const fixture = keep(await StytchFixture.start());
    const target = keep(await startApp(backend));
    const response = await target.http.get('/v1/session').set(bearer(await fixture.mint()));
    expectEnvelope(response, 401, 'INVALID_SESSION');
    expect(fixture.hits).toBe(0);
  });

  it('refuses sessions with INVALID_SESSION when the JWKS cannot be reached', async () => {
    const fixture = await StytchFixture.start();
    const [token, config] = [await fixture.mint(), fixture.config];
    await fixture.close();
    const target = keep(await startApp(backend, { stytch: config }));
    const response = await target.http.get('/v1/session').set(bearer(token));
    expect(expectEnvelope(response, 401, 'INVALID_SESSION').message).toBe(INVALID_SESSION);
  });

  // Moves the clock forward (and back to real time at the end).
  it('calls a failing JWKS at most once per period, keeps verifying known keys, and picks up a new key once it recovers', async () => {
    const fixture = keep(await StytchFixture.start());
    const target = keep(await startApp(backend, { stytch: fixture.config, authFailureMax: 1_000_000 }));
    const member = stytchOrganization(fixture).member();
    // a header that names no RS256 key is refused before any download
    for (const token of ['eyJhbGciOiJIUzI1NiIsImtpZCI6ImsifQ.e30.c2ln', 'bm90IGpzb24.e30.c2ln', `${'a'.repeat(600)}.e30.c2ln`]) {
      expectEnvelope(await target.http.get('/v1/session').set(bearer(token)), 401, 'INVALID_SESSION');
    }
    expect(fixture.hits).toBe(0);
    await target.http.get('/v1/session').set(await member.auth()).expect(200);
    expect(fixture.hits).toBe(1);

    fixture.failing = true;
    /** 20 tokens at once, each under a kid nobody ever published. */
    const invented = async () => {
      const tokens = await Promise.all(Array.from({ length: 20 }, () => fixture.mint({ unknownKid: true, kid: `jwk-test-${randomUUID()}` })));
      const responses = await Promise.all(tokens.map((token) => target.http.get('/v1/session').set(bearer(token))));
      for (const response of responses) expect(expectEnvelope(response, 401, 'INVALID_SESSION').message).toBe(INVALID_SESSION);
    };
    try {
      await invented(); // within 30 s of the last download: no call
      expect(fixture.hits).toBe(1);
      jumpClock(31_000);
      await invented(); // one call, which fails...
      expect(fixture.hits).toBe(2);
      await invented(); // ...and none for 30 s after it
      expect(fixture.hits).toBe(2);
      // tokens signed with the key in hand keep verifying, offline
      await target.http.get('/v1/session').set(await member.auth()).expect(200);
      expect(fixture.hits).toBe(2);

      jumpClock(31_000);
      await invented(); // the second failure: none for a minute after it
      jumpClock(31_000);
      await invented();
      expect(fixture.hits).toBe(3);

      // Stytch answers again, with a new signing key: picked up once the minute is over
      fixture.failing = false;
      await fixture.rotate();
      expectEnvelope(await target.http.get('/v1/session').set(await member.auth()), 401, 'INVALID_SESSION');
      expect(fixture.hits).toBe(3);
      jumpClock(30_000);
      await target.http.get('/v1/session').set(await member.auth()).expect(200);
      expect(fixture.hits).toBe(4);
    } finally {
      jest.useRealTimers();
    }
  });

  it('limits sessions per member: one member gets 429 while another of the same organization passes', async () => {
    const fixture = keep(await StytchFixture.start());
    const target = keep(await startApp(backend, { stytch: fixture.config, rateLimit: { max: 3, windowSeconds: 60 } }));
    const organization = stytchOrganization(fixture);
    const [busy, other] = [organization.member(), organization.member()];

    const remaining: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const response = await target.http.get('/v1/session').set(await busy.auth()).expect(200);
      expect(response.headers['x-ratelimit-limit']).toBe('3');
      remaining.push(response.headers['x-ratelimit-remaining']);
    }
    expect(remaining).toEqual(['2', '1', '0']);

    const limited = await target.http.get('/v1/session').set(await busy.auth());
    const error = expectEnvelope(limited, 429, 'RATE_LIMITED');
    expect(error.retry_after).toBeGreaterThanOrEqual(1);
    expect(limited.headers['retry-after']).toBe(String(error.retry_after));

    await target.http.get('/v1/session').set(await other.auth()).expect(200);
  });
});

const shared = sharedBackend();

(shared ? describe : describe.skip)('dashboard sessions on two instances sharing PostgreSQL and Redis', () => {
  let fixture: StytchFixture;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    fixture = await StytchFixture.start();
    [a, b] = await Promise.all([startApp(shared!, { stytch: fixture.config }), startApp(shared!, { stytch: fixture.config })]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await fixture?.close();
  });

  it('maps concurrent first requests of one new Stytch organization to one organization', async () => {
    const organizations = Array.from({ length: 5 }, () => stytchOrganization(fixture));
    // Tokens first, so that the requests leave together: one member on A, another on B.
    const tokens = await Promise.all(organizations.map((organization) => Promise.all([organization.member().auth(), organization.member().auth()])));
    const responses = await Promise.all(
      tokens.flatMap(([onA, onB]) => [a.http.get('/v1/session').set(onA), b.http.get('/v1/session').set(onB)]),
    );
    for (const [index, organization] of organizations.entries()) {
      const [onA, onB] = responses.slice(index * 2, index * 2 + 2);
      expect([onA.status, onB.status]).toEqual([200, 200]);
      expect(onA.body.organization_id).toBe(onB.body.organization_id);
      expect(await organizationsOf(a, organization.organizationId)).toHaveLength(1);
    }
  });

  it('stops a key on instance B as soon as an admin revokes it on instance A', async () => {
    const admin = stytchOrganization(fixture).admin();
    const created = await a.http.post('/v1/api-keys').set(await admin.auth()).send({ name: 'to revoke' }).expect(201);
    // B has authenticated (and cached) the key before it is revoked.
    await b.http.get('/v1/organization').set(bearer(created.body.key)).expect(200);

    await a.http.delete(`/v1/api-keys/${created.body.id}`).set(await admin.auth()).expect(200);
    expectEnvelope(await b.http.get('/v1/organization').set(bearer(created.body.key)), 401, 'API_KEY_REVOKED');
  });
});
