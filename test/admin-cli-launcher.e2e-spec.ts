import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EnvOverrides, Outcome, execute, npmAdmin, oneJsonObject } from './support/admin-cli';
import { sharedBackend } from './support/test-app';

/**
 * `npm run -s admin` on a fresh clone (CONTRACT §8): the first call builds, with the build's
 * output on stderr and one JSON object on stdout; later calls start at once while the build's
 * inputs are unchanged, and build again when one changes.
 */

const ROOT = path.resolve(__dirname, '..');
// Each command is a whole Node process (≈1 s of CPU to load); a busy machine runs a batch slowly.
jest.setTimeout(300_000);
const FINGERPRINT = 'dist/.build-fingerprint';
let clone: string;

/** The project's files as a clone has them (tracked and new, nothing ignored: no dist/, no src/generated/). */
function cloneProject(): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'lv-clone-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file && file !== 'node_modules' && fs.existsSync(path.join(ROOT, file)));
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(folder, file)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, file), path.join(folder, file));
    fs.chmodSync(path.join(folder, file), fs.statSync(path.join(ROOT, file)).mode);
  }
  fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'node_modules')), path.join(folder, 'node_modules'));
  return folder;
}

const mtime = (file: string) => fs.statSync(path.join(clone, file)).mtimeMs;

beforeAll(() => {
  clone = cloneProject();
});
afterAll(() => fs.rmSync(clone, { recursive: true, force: true }));

it('first call on a fresh clone builds (output on stderr) and prints one JSON object; the second call does not build', async () => {
  const shared = sharedBackend();
  const env: EnvOverrides = shared
    ? { DATABASE_URL: shared.databaseUrl, REDIS_URL: shared.redisUrl }
    : { DATABASE_URL: undefined, REDIS_URL: undefined, DATA_DIR: path.join(clone, '.data') };
  expect(fs.existsSync(path.join(clone, 'dist'))).toBe(false);

  const first = await npmAdmin(clone, env, ['org', 'list', '--json'], 600_000);
  expect({ code: first.code, stderr: first.stderr }).toMatchObject({ code: 0, stderr: expect.stringContaining('Generated Prisma Client') });
  expect(oneJsonObject(first.stdout)).toEqual({ data: expect.any(Array) });
  const built = { fingerprint: mtime(FINGERPRINT), entry: mtime('dist/cli/admin.js') };

  const second = await npmAdmin(clone, env, ['org', 'list', '--json']);
  expect({ code: second.code, stderr: second.stderr }).toEqual({ code: 0, stderr: '' });
  expect(oneJsonObject(second.stdout)).toEqual({ data: expect.any(Array) });
  expect({ fingerprint: mtime(FINGERPRINT), entry: mtime('dist/cli/admin.js') }).toEqual(built);
  expect(second.ms).toBeLessThan(first.ms);
  process.stdout.write(`admin command line on a fresh clone: first call ${first.ms} ms (build), second ${second.ms} ms\n`);
}, 600_000);

describe('what makes the launcher build again (with a stand-in build)', () => {
  let log: string;
  /** The bin, with `npm run -s build` replaced by a script that logs its call and prints to stdout. */
  const run = (args: string[], extra: EnvOverrides = {}): Promise<Outcome> =>
    execute(path.join(clone, 'bin/lucitra-admin.js'), args, os.tmpdir(), {
      npm_execpath: path.join(clone, 'stand-in-build.js'),
      STAND_IN_LOG: log,
      ...extra,
    });
  const builds = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0);
  const touch = (file: string, when = new Date()) => fs.utimesSync(path.join(clone, file), when, when);

  beforeAll(() => {
    log = path.join(clone, 'stand-in-build.log');
    fs.writeFileSync(
      path.join(clone, 'stand-in-build.js'),
      `const fs = require('fs');
       fs.appendFileSync(process.env.STAND_IN_LOG, process.argv.slice(2).join(' ') + '\\n');
       console.log('stand-in build output');
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.env.STAND_IN_MS || 0));
       process.exit(Number(process.env.STAND_IN_EXIT || 0));`,
    );
  });

  async function expectBuilds(change: () => void, expected: number): Promise<void> {
    const before = builds();
    change();
    const outcome = await run(['--help']);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toMatch(/^Usage: lucitra-admin/); // the build's stdout went to stderr
    expect(builds() - before).toBe(expected);
    if (expected) expect(outcome.stderr).toContain('stand-in build output');
  }

  it('builds when a source, the schema, the lock file or the set of files changes — not for specs or generated code', async () => {
    await expectBuilds(() => undefined, 0);
    await expectBuilds(() => touch('src/cli/admin.ts'), 1);
    expect(fs.readFileSync(log, 'utf8')).toBe('run -s build\n');
    await expectBuilds(() => undefined, 0);
    await expectBuilds(() => touch('src/config/load-config.spec.ts'), 0);
    await expectBuilds(() => fs.writeFileSync(path.join(clone, 'src/generated/extra.ts'), ''), 0);
    // a new file with an old modification time still counts: the fingerprint names every file
    await expectBuilds(() => {
      fs.writeFileSync(path.join(clone, 'src/extra.ts'), 'export {};\n');
      touch('src/extra.ts', new Date('2001-01-01'));
    }, 1);
    await expectBuilds(() => fs.rmSync(path.join(clone, 'src/extra.ts')), 1);
    await expectBuilds(() => touch('prisma/schema.prisma'), 1);
    await expectBuilds(() => touch('package-lock.json', new Date('2001-01-01')), 1);
  });

  it('commands started together while stale wait for one build', async () => {
    touch('src/cli/admin.ts');
    const before = builds();
    const outcomes = await Promise.all([1, 2, 3].map(() => run(['--help'], { STAND_IN_MS: '1500' })));
    expect(outcomes.map((outcome) => outcome.code)).toEqual([0, 0, 0]);
    expect(builds() - before).toBe(1);
  });

  it('a failed build stops the command (exit 1, nothing on stdout), and the next call tries again', async () => {
    touch('src/cli/admin.ts');
    const failed = await run(['org', 'list', '--json'], { STAND_IN_EXIT: '2' });
    expect({ code: failed.code, stdout: failed.stdout }).toEqual({ code: 1, stdout: '' });
    const lastLine = failed.stderr.trim().split('\n').pop()!;
    expect(JSON.parse(lastLine)).toEqual({ error: { code: 'BUILD_FAILED', message: expect.stringMatching(/^the build failed/) } });
    const before = builds();
    expect((await run(['--help'])).code).toBe(0);
    expect(builds() - before).toBe(1);
  });
});
