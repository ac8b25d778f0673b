import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EnvOverrides, Outcome, execute, inBatches, npmAdmin, oneJsonObject } from './support/admin-cli';
import { TestApp, bearer, expectEnvelope, seedOrganization, sharedBackend, startApp } from './support/test-app';
import { waitFor } from './support/waiting';

/**
 * The admin command line (CONTRACT §8) as an operator runs it: `npm run -s admin -- …` (and the
 * `lucitra-admin` bin), each command a process of its own. Its input obeys the API's own rules.
 */

const ROOT = path.resolve(__dirname, '..');
// Each command is a whole Node process (≈1 s of CPU to load); a busy machine runs a batch slowly.
jest.setTimeout(300_000);
const BIN = path.join(ROOT, 'bin/lucitra-admin.js');
const ORG_ID = 'org_000000000000ffffffffffffffff';
const KEY_ID = 'key_000000000000ffffffffffffffff';

const CONTROL = 'name must not contain control characters';
/** Names the API refuses, and the message it gives (`CreateApiKeyDto`; organizations allow 200 characters). */
const BAD_NAMES: [string, string, string][] = [
  ['CR/LF', 'line one\r\nline two', CONTROL],
  ['ESC sequence', '\u001b[2J\u001b[31mred\u001b[0m', CONTROL],
  ['C1 CSI', 'a\u009b31mb', CONTROL],
  ['tab', 'a\tb', CONTROL],
  ['empty', '', 'name should not be empty'],
];
const LONG = 'n'.repeat(5000);

/** With embedded settings whose data folder does not exist: anything that connected would create it. */
async function withUntouchedDataDir(task: (env: EnvOverrides) => Promise<void>): Promise<void> {
  const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lv-admin-')), 'data');
  try {
    await task({ DATABASE_URL: undefined, REDIS_URL: undefined, DATA_DIR: dataDir });
    expect(fs.existsSync(dataDir)).toBe(false);
  } finally {
    fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
  }
}

function jsonError(outcome: Pick<Outcome, 'stderr'>): { code: string; message: string; details?: { field: string; message: string }[] } {
  return (oneJsonObject(outcome.stderr) as { error: { code: string; message: string } }).error;
}

describe('admin command line: a tool (help, usage, input rules), whatever the backend', () => {
  beforeAll(async () => {
    // the first call builds when the build is stale (its output on stderr); later ones do not
    const first = await npmAdmin(ROOT, {}, ['--help'], 600_000);
    expect({ code: first.code, stdout: first.stdout }).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Usage: /) });
  }, 600_000);

  it('answers --help, -h and help, for the tool and for each command: exit 0, on stdout, nothing on stderr', async () => {
    const cases: [string[], RegExp[]][] = [
      [['--help'], [/^Usage: npm run -s admin -- <command> \[options\]$/m, /^ {2}key set-limit +Set or clear/m, /^Exit status: /m]],
      [['-h'], [/^ {2}org show +Show an organization/m]],
      [['help'], [/^Commands:$/m]],
      [['key', 'create', '--help'], [/^Usage: npm run -s admin -- key create --org ORG_ID --name NAME \[--environment ENV\] \[--json\]$/m, /--name NAME +.*1–100 characters/]],
      [['help', 'key', 'set-limit'], [/key set-limit KEY_ID --max N --window-seconds S/, /key set-limit KEY_ID --default/, /--max N +.*1 to 1000000/]],
      [['org', 'create', '-h', '--json'], [/--stytch-org-id ID/, /--name NAME +.*1–200 characters/]],
      [['key', 'list', '--help'], [/--include-revoked/]],
      [['org', 'show', '--help'], [/org show ORG_ID/, /active_api_keys/]],
    ];
    const outcomes = await inBatches(cases, ([args]) => npmAdmin(ROOT, {}, args));
    cases.forEach(([args, patterns], index) => {
      const { code, stdout, stderr } = outcomes[index];
      expect({ args, code, stderr }).toEqual({ args, code: 0, stderr: '' });
      for (const pattern of patterns) expect(stdout).toMatch(pattern);
    });
  });

  it('the bin runs as an executable and names itself in its help', async () => {
    expect(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).bin).toEqual({ 'lucitra-admin': 'bin/lucitra-admin.js' });
    const outcome = await execute(BIN, ['key', 'revoke', '--help'], os.tmpdir(), { npm_lifecycle_event: undefined });
    expect({ code: outcome.code, stderr: outcome.stderr }).toEqual({ code: 0, stderr: '' });
    expect(outcome.stdout).toMatch(/^Usage: lucitra-admin key revoke KEY_ID \[--json\]$/m);
  });

  it('names an unknown command and shows the usage (exit 2, stderr); with --json, one JSON error object', async () => {
    const [text, json, group] = await Promise.all([
      npmAdmin(ROOT, {}, ['foo', 'bar']),
      npmAdmin(ROOT, {}, ['foo', 'bar', '--json']),
      npmAdmin(ROOT, {}, ['key']),
    ]);
    expect({ code: text.code, stdout: text.stdout }).toEqual({ code: 2, stdout: '' });
    expect(text.stderr).toMatch(/^error: unknown command "foo bar"\n\nUsage: npm run -s admin -- <command>/);
    expect({ code: json.code, stdout: json.stdout }).toEqual({ code: 2, stdout: '' });
    expect(jsonError(json)).toEqual({ code: 'INVALID_USAGE', message: 'unknown command "foo bar"' });
    expect(group.code).toBe(2);
    expect(group.stderr).toMatch(/^error: unknown command "key"; "key" is followed by one of: key create, key list, key revoke, key set-limit/);
  });

  it('exits 2 with a message on stderr, and nothing on stdout, on bad usage — before touching any database', async () => {
    const cases = [
      [],
      ['frobnicate'],
      ['org', 'create'],
      ['org', 'set-tier', ORG_ID],
      ['org', 'set-leak-response', ORG_ID],
      ['org', 'show'],
      ['org', 'show', ORG_ID, 'extra'],
      ['key', 'create', '--name', 'no org'],
      ['key', 'list'],
      ['org', 'list', '--bogus'],
      ['key', 'set-limit', KEY_ID],
      ['key', 'set-limit', KEY_ID, '--max', '10'],
      ['key', 'set-limit', KEY_ID, '--default', '--max', '10'],
      ['key', 'set-limit', KEY_ID, '--max'],
    ];
    await withUntouchedDataDir(async (env) => {
      const outcomes = await inBatches(cases, (args) => npmAdmin(ROOT, env, [...args, '--json']));
      cases.forEach((args, index) => {
        const outcome = outcomes[index];
        expect({ args, code: outcome.code, stdout: outcome.stdout }).toEqual({ args, code: 2, stdout: '' });
        expect({ args, code: jsonError(outcome).code }).toEqual({ args, code: 'INVALID_USAGE' });
      });
    });
  });

  it("refuses what the API refuses, with the API's messages (exit 2), before touching any database", async () => {
    const cases: [string[], { field: string; message: string }[]][] = [
      ...BAD_NAMES.map(([, name, message]): [string[], { field: string; message: string }[]] => [['org', 'create', '--name', name], [{ field: 'name', message }]]),
      ...BAD_NAMES.map(([, name, message]): [string[], { field: string; message: string }[]] => [['key', 'create', '--org', ORG_ID, '--name', name], [{ field: 'name', message }]]),
      [['org', 'create', '--name', LONG], [{ field: 'name', message: 'name must be shorter than or equal to 200 characters' }]],
      [['key', 'create', '--org', ORG_ID, '--name', LONG], [{ field: 'name', message: 'name must be shorter than or equal to 100 characters' }]],
      [['org', 'create', '--name', 'x', '--tier', 'platinum'], [{ field: 'tier', message: 'tier must be one of the following values: free, standard, enterprise' }]],
      [['org', 'set-tier', ORG_ID, 'gold'], [{ field: 'tier', message: 'tier must be one of the following values: free, standard, enterprise' }]],
      [['org', 'set-leak-response', ORG_ID, 'ignore'], [{ field: 'leak_response', message: 'leak_response must be one of the following values: revoke, notify' }]],
      [['org', 'create', '--name', 'x', '--stytch-org-id', 'acme\u001b[0m'], [{ field: 'stytch_organization_id', message: expect.stringMatching(/^stytch_organization_id must be a Stytch organization id/) }]],
      [['key', 'create', '--org', ORG_ID, '--name', 'x', '--environment', 'prod'], [{ field: 'environment', message: 'environment must be one of the following values: development, staging, production' }]],
      [['key', 'set-limit', KEY_ID, '--max', '0', '--window-seconds', '60'], [{ field: 'max', message: 'max must not be less than 1' }]],
      [['key', 'set-limit', KEY_ID, '--max', '1000001', '--window-seconds', '86401'], [
        { field: 'max', message: 'max must not be greater than 1000000' },
        { field: 'window_seconds', message: 'window_seconds must not be greater than 86400' },
      ]],
      [['key', 'set-limit', KEY_ID, '--max=-5', '--window-seconds', '60'], [{ field: 'max', message: 'max must not be less than 1' }]],
      [['key', 'set-limit', KEY_ID, '--max', '1.5', '--window-seconds', '60'], [{ field: 'max', message: 'max must be an integer number' }]],
      [['key', 'set-limit', KEY_ID, '--max', '10', '--window-seconds', 'a minute'], [
        { field: 'window_seconds', message: 'window_seconds must not be greater than 86400' },
        { field: 'window_seconds', message: 'window_seconds must not be less than 1' },
        { field: 'window_seconds', message: 'window_seconds must be an integer number' },
      ]],
    ];
    await withUntouchedDataDir(async (env) => {
      const outcomes = await inBatches(cases, ([args]) => npmAdmin(ROOT, env, [...args, '--json']));
      cases.forEach(([args, details], index) => {
        const outcome = outcomes[index];
        expect({ args, code: outcome.code, stdout: outcome.stdout }).toEqual({ args, code: 2, stdout: '' });
        expect({ args, error: jsonError(outcome) }).toEqual({ args, error: { code: 'VALIDATION_FAILED', message: 'Request validation failed.', details } });
      });
    });
  });

  it('without --json, a refusal is a readable message whose echoed input cannot drive the terminal', async () => {
    await withUntouchedDataDir(async (env) => {
      const [name, option] = await Promise.all([
        npmAdmin(ROOT, env, ['org', 'create', '--name', '\u001b[2Jx']),
        npmAdmin(ROOT, env, ['org', 'list', '--\u001b[2J']),
      ]);
      expect({ code: name.code, stdout: name.stdout, stderr: name.stderr }).toEqual({
        code: 2,
        stdout: '',
        stderr: `error: Request validation failed.\n  - ${CONTROL}\n`,
      });
      expect(option.code).toBe(2);
      expect(option.stderr).toMatch(/^error: Unknown option '--\\u001b\[2J'/);
      expect(option.stderr).not.toContain('\u001b');
    });
  });
});

const shared = sharedBackend();
(shared ? describe : describe.skip)('admin command line against a running app (PostgreSQL + Redis)', () => {
  let target: TestApp;
  const admin = (...args: string[]) => npmAdmin(ROOT, { DATABASE_URL: shared!.databaseUrl, REDIS_URL: shared!.redisUrl }, args);

  /** Runs a command that must succeed with `--json`: exactly one JSON object on stdout, nothing on stderr. */
  async function json(...args: string[]): Promise<Record<string, unknown>> {
    const outcome = await admin(...args, '--json');
    expect({ args, code: outcome.code, stderr: outcome.stderr }).toEqual({ args, code: 0, stderr: '' });
    return oneJsonObject(outcome.stdout);
  }

  beforeAll(async () => {
    expect((await npmAdmin(ROOT, {}, ['--help'], 600_000)).code).toBe(0); // built, if it was not
    target = await startApp(shared!, { usageFlushIntervalMs: 600_000, authFailureMax: 1_000_000 });
  }, 600_000);
  afterAll(() => target?.close());

  it('round-trips with a running app: org create → key create → the key works → set-tier shows on the next request → revoke → 401', async () => {
    const organization = await json('org', 'create', '--name', 'CLI org');
    expect(Object.keys(organization).sort()).toEqual(['created_at', 'id', 'leak_response', 'name', 'stytch_organization_id', 'tier']);
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

    // the leak response too, audited
    expect(await json('org', 'set-leak-response', organization.id as string, 'notify')).toMatchObject({ id: organization.id, leak_response: 'notify' });
    // the running app held the record: it hears of the change through the store's events
    await waitFor('the running app to show notify', async () => (await target.http.get('/v1/organization').set(auth)).body.leak_response === 'notify');
    const changes = await target.http.get('/v1/audit/events?type=organization.leak_response_changed').set(auth);
    expect(changes.body.data).toEqual([expect.objectContaining({ actor: { type: 'system', id: 'admin-cli' }, data: { from: 'revoke', to: 'notify' } })]);

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

  it('operator commands: key list (never secrets, revoked on request), key set-limit (audited, above the default allowed), org show', async () => {
    const organization = await json('org', 'create', '--name', 'Operated org', '--tier', 'enterprise');
    const orgId = organization.id as string;
    const first = await json('key', 'create', '--org', orgId, '--name', 'first');
    const second = await json('key', 'create', '--org', orgId, '--name', 'second');
    expect(await json('org', 'show', orgId)).toEqual({ ...organization, active_api_keys: 2 });

    const limited = await json('key', 'set-limit', first.id as string, '--max', '1000000', '--window-seconds', '1');
    expect(limited).toMatchObject({ id: first.id, rate_limit: { max: 1_000_000, window_seconds: 1 } });
    expect(limited.key).toBeUndefined();
    const events = await target.http.get('/v1/audit/events?type=api_key.rate_limit_changed').set(bearer(second.key as string));
    expect(events.status).toBe(200);
    expect(events.body.data).toEqual([expect.objectContaining({ actor: { type: 'system', id: 'admin-cli' }, target: { type: 'api_key', id: first.id } })]);
    expect(await json('key', 'set-limit', first.id as string, '--default')).toMatchObject({ id: first.id, rate_limit: null });

    await json('key', 'revoke', second.id as string);
    const live = await json('key', 'list', '--org', orgId);
    expect((live.data as { id: string }[]).map((key) => key.id)).toEqual([first.id]);
    const all = (await json('key', 'list', '--org', orgId, '--include-revoked')).data as Record<string, unknown>[];
    expect(all.map((key) => key.id)).toEqual([second.id, first.id]); // newest first
    for (const key of all) {
      expect(key).toMatchObject({ object: 'api_key', start: expect.stringMatching(/^luci_/) });
      expect(key.key).toBeUndefined();
    }
    expect(JSON.stringify(all)).not.toContain(first.key as string);
    expect(await json('org', 'show', orgId)).toMatchObject({ id: orgId, active_api_keys: 1 });
  });

  it("refuses the names the API refuses, with the API's own details, and creates nothing", async () => {
    const { key, id: orgId } = await seedOrganization(target, 'free', 'Validation org');
    const ids = async (...args: string[]) => ((await json(...args)).data as { id: string }[]).map((item) => item.id);
    const orgsBefore = await ids('org', 'list');
    const keysBefore = await ids('key', 'list', '--org', orgId, '--include-revoked');

    const names = [...BAD_NAMES.map(([, name]) => name), LONG];
    const outcomes = await inBatches(names, (name) => admin('key', 'create', '--org', orgId, '--name', name, '--json'));
    for (const [index, name] of names.entries()) {
      const api = await target.http.post('/v1/api-keys').set(bearer(key)).send({ name });
      expectEnvelope(api, 400, 'VALIDATION_FAILED');
      const { request_id: _requestId, ...envelope } = api.body.error;
      expect({ name: name.slice(0, 20), code: outcomes[index].code, stdout: outcomes[index].stdout }).toEqual({ name: name.slice(0, 20), code: 2, stdout: '' });
      expect(jsonError(outcomes[index])).toEqual(envelope);
    }
    await inBatches(BAD_NAMES, ([, name]) => admin('org', 'create', '--name', name, '--json'));

    expect(await ids('org', 'list')).toEqual(orgsBefore);
    expect(await ids('key', 'list', '--org', orgId, '--include-revoked')).toEqual(keysBefore);
  });

  it('warns on stderr when a revocation cannot reach running servers (no REDIS_URL); with it, it takes effect at once', async () => {
    const { key, keyId } = await seedOrganization(target);
    expect((await target.http.get('/v1/organization').set(bearer(key))).status).toBe(200);

    const withoutRedis = await npmAdmin(ROOT, { DATABASE_URL: shared!.databaseUrl, REDIS_URL: undefined }, ['key', 'revoke', keyId, '--json']);
    expect(withoutRedis.code).toBe(0);
    expect(oneJsonObject(withoutRedis.stdout)).toMatchObject({ id: keyId, revoked_at: expect.any(String) });
    expect(withoutRedis.stderr).toMatch(/^warning: neither REDIS_URL nor REDIS_CLUSTER_NODES is set/);

    // run again as the warning says: the running app refuses the key at its next request
    await json('key', 'revoke', keyId);
    expectEnvelope(await target.http.get('/v1/organization').set(bearer(key)), 401, 'API_KEY_REVOKED');
  });

  it('exits 1 with one JSON error on stderr for an unknown organization or key', async () => {
    const cases = [
      ['org', 'set-tier', ORG_ID, 'enterprise'],
      ['org', 'show', ORG_ID],
      ['org', 'show', 'not-an-id'],
      ['key', 'create', '--org', ORG_ID, '--name', 'orphan'],
      ['key', 'list', '--org', ORG_ID],
      ['key', 'revoke', KEY_ID],
      ['key', 'set-limit', KEY_ID, '--default'],
    ];
    const outcomes = await inBatches(cases, (args) => admin(...args, '--json'));
    cases.forEach((args, index) => {
      const outcome = outcomes[index];
      expect({ args, code: outcome.code, stdout: outcome.stdout }).toEqual({ args, code: 1, stdout: '' });
      expect(jsonError(outcome)).toEqual({ code: 'NOT_FOUND', message: expect.stringMatching(/^(Organization|API key) not found\.$/) });
    });
  });

  it('refuses a second organization for the same Stytch organization (exit 1, CONFLICT)', async () => {
    const stytchId = 'organization-test-0c1d2e3f-0000-4000-8000-000000000001';
    await json('org', 'create', '--name', 'Linked', '--stytch-org-id', stytchId);
    const again = await admin('org', 'create', '--name', 'Linked again', '--stytch-org-id', stytchId, '--json');
    expect({ code: again.code, stdout: again.stdout }).toEqual({ code: 1, stdout: '' });
    expect(jsonError(again)).toEqual({ code: 'CONFLICT', message: 'An organization with this Stytch organization id already exists.' });
  });
});
