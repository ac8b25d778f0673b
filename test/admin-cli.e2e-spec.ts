import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { TestApp, bearer, expectEnvelope, seedOrganization, sharedBackend, startApp } from './support/test-app';

/**
 * The admin command line (CONTRACT §8, issue 3) as an operator runs it: the built
 * `dist/cli/admin.js` in its own process, against the PostgreSQL and Redis a running app uses —
 * whose next request must see what the command changed.
 */

const ROOT = path.resolve(__dirname, '..');
const ADMIN = path.join(ROOT, 'dist/cli/admin.js');
const run = promisify(execFile);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

const shared = sharedBackend();
(shared ? describe : describe.skip)('admin command line against a running app (PostgreSQL + Redis)', () => {
  let target: TestApp;

  async function admin(...args: string[]): Promise<Outcome> {
    return adminWith({ DATABASE_URL: shared!.databaseUrl, REDIS_URL: shared!.redisUrl }, ...args);
  }

  async function adminWith(overrides: Record<string, string | undefined>, ...args: string[]): Promise<Outcome> {
    const env: Record<string, string | undefined> = { ...process.env, ...overrides };
    for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete env[name];
    try {
      const { stdout, stderr } = await run('node', [ADMIN, ...args], { cwd: ROOT, env, timeout: 30_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      if (typeof failed.code !== 'number') throw error; // killed (timeout) or not started
      return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
    }
  }

  /** Runs a command that must succeed with `--json`: exactly one JSON object on stdout, nothing on stderr. */
  async function json(...args: string[]): Promise<Record<string, unknown>> {
    const outcome = await admin(...args, '--json');
    expect({ args, code: outcome.code, stderr: outcome.stderr }).toEqual({ args, code: 0, stderr: '' });
    const lines = outcome.stdout.split('\n');
    expect(lines).toHaveLength(2); // one line, then the final newline
    expect(lines[1]).toBe('');
    const value = JSON.parse(lines[0]) as unknown;
    expect(value !== null && typeof value === 'object' && !Array.isArray(value)).toBe(true);
    return value as Record<string, unknown>;
  }

  beforeAll(async () => {
    // The command line an operator runs is the compiled one (`npm run -s admin` builds, then runs it).
    const built = Date.now();
    await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, timeout: 120_000 }).catch((error: { stdout?: string }) => {
      // Type errors elsewhere in the tree still emit JavaScript; only a missing CLI is fatal.
      process.stderr.write(`tsc reported problems (continuing): ${String(error.stdout ?? error).slice(0, 2000)}\n`);
    });
    expect(fs.statSync(ADMIN).mtimeMs).toBeGreaterThanOrEqual(built - 1000);
    target = await startApp(shared!, { usageFlushIntervalMs: 600_000, authFailureMax: 1_000_000 });
  }, 180_000);
  afterAll(() => target?.close());

  it('round-trips with a running app: org create → key create → the key works → set-tier shows on the next request → revoke → 401', async () => {
    const organization = await json('org', 'create', '--name', 'CLI org');
    expect(Object.keys(organization).sort()).toEqual(['created_at', 'id', 'name', 'stytch_organization_id', 'tier']);
    expect(organization).toMatchObject({ id: expect.stringMatching(/^org_[0-9a-f]{28}$/), name: 'CLI org', tier: 'free', stytch_organization_id: null });

    const key = await json('key', 'create', '--org', organization.id as string, '--name', 'CLI key', '--environment', 'staging');
    expect(key).toMatchObject({
      object: 'api_key',
      name: 'CLI key',
      environment: 'staging',
      revoked_at: null,
      created_by: { type: 'system', id: 'admin-cli' },
      key: expect.stringMatching(/^luci_[A-Za-z0-9]{32,}$/),
    });
    expect(key.start).toBe((key.key as string).slice(0, 9));
    const auth = bearer(key.key as string);

    const before = await target.http.get('/v1/organization').set(auth);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ id: organization.id, name: 'CLI org', tier: 'free' });
    expectEnvelope(await target.http.get('/v1/compliance').set(auth), 403, 'ENTERPRISE_REQUIRED');

    const upgraded = await json('org', 'set-tier', organization.id as string, 'enterprise');
    expect(upgraded).toMatchObject({ id: organization.id, tier: 'enterprise' });
    // the running app's very next request sees the new tier (its caches were warm)
    expect((await target.http.get('/v1/organization').set(auth)).body.tier).toBe('enterprise');
    expect((await target.http.get('/v1/compliance').set(auth)).status).not.toBe(403);

    // without --json: the same object, indented for a person
    const listed = await admin('org', 'list');
    expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: '' });
    expect(listed.stdout.split('\n').length).toBeGreaterThan(3);
    expect(JSON.parse(listed.stdout).data).toEqual(expect.arrayContaining([expect.objectContaining({ id: organization.id, tier: 'enterprise' })]));

    const revoked = await json('key', 'revoke', key.id as string);
    expect(revoked).toMatchObject({ id: key.id, object: 'api_key', revoked_at: expect.any(String) });
    expect(revoked.key).toBeUndefined();
    expectEnvelope(await target.http.get('/v1/organization').set(auth), 401, 'API_KEY_REVOKED');

  });

  it('exits 2 with a message on stderr, and nothing on stdout, on bad usage — before touching any database', async () => {
    // Embedded settings with a data folder that does not exist yet: a typo must not create (or lock) it.
    const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lv-admin-')), 'data');
    const embedded = { DATABASE_URL: undefined, REDIS_URL: undefined, DATA_DIR: dataDir };
    const id = 'org_000000000000ffffffffffffffff';
    const cases = [
      [],
      ['frobnicate'],
      ['org', 'create'],
      ['org', 'create', '--name', 'x', '--tier', 'platinum'],
      ['org', 'set-tier', id],
      ['key', 'create', '--name', 'no org'],
      ['key', 'create', '--org', id, '--name', 'x', '--environment', 'prod'],
      ['org', 'list', '--bogus'],
    ];
    try {
      const outcomes = await inBatches(cases, (args) => adminWith(embedded, ...args, '--json'));
      cases.forEach((args, index) => {
        const { code, stdout, stderr } = outcomes[index];
        expect({ args, code, stdout }).toEqual({ args, code: 2, stdout: '' });
        expect(stderr).toMatch(/usage|required|must be one of|unknown option/i);
      });
      expect(fs.existsSync(dataDir)).toBe(false);
    } finally {
      fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
    }
  });

  it('warns on stderr when a revocation cannot reach running servers (no REDIS_URL); with it, it takes effect at once', async () => {
    const { key, keyId } = await seedOrganization(target);
    expect((await target.http.get('/v1/organization').set(bearer(key))).status).toBe(200);

    const withoutRedis = await adminWith({ DATABASE_URL: shared!.databaseUrl, REDIS_URL: undefined }, 'key', 'revoke', keyId, '--json');
    expect(withoutRedis.code).toBe(0);
    expect(JSON.parse(withoutRedis.stdout)).toMatchObject({ id: keyId, revoked_at: expect.any(String) });
    expect(withoutRedis.stderr).toMatch(/^warning: REDIS_URL is not set/);

    // run again as the warning says: the running app refuses the key at its next request
    await json('key', 'revoke', keyId);
    expectEnvelope(await target.http.get('/v1/organization').set(bearer(key)), 401, 'API_KEY_REVOKED');
  });

  it('exits 1 with a message on stderr for an unknown organization or key', async () => {
    const unknownOrg = 'org_000000000000ffffffffffffffff';
    const cases = [
      ['org', 'set-tier', unknownOrg, 'enterprise'],
      ['key', 'create', '--org', unknownOrg, '--name', 'orphan'],
      ['key', 'revoke', 'key_000000000000ffffffffffffffff'],
    ];
    const outcomes = await inBatches(cases, (args) => admin(...args, '--json'));
    cases.forEach((args, index) => {
      const { code, stdout, stderr } = outcomes[index];
      expect({ args, code, stdout }).toEqual({ args, code: 1, stdout: '' });
      expect(stderr).toMatch(/^error: .*not found|^error: No organization/i);
      expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
    });
  });
});

/** Runs `task` over `items` a few at a time: each command is a whole Node process. */
async function inBatches<T, R>(items: T[], task: (item: T) => Promise<R>, size = 4): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size) results.push(...(await Promise.all(items.slice(start, start + size).map(task))));
  return results;
}
