import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { LOCK_FILE } from '../src/database/data-dir-lock';
import { freePort } from './support/fault-servers';
import { ROOT, ServiceProcess, ensureBuilt } from './support/fault-service';
import { waitFor } from './support/waiting';

/**
 * The embedded database's folder (DATA_DIR) as operators meet it, with real processes: the built
 * server (`node dist/main.js`) and admin command line (`node dist/cli/admin.js`). One process at a
 * time — the second fails at once, saying who holds it and what to do, instead of losing writes —
 * and the folder is private to its owner.
 */

const ADMIN = path.join(ROOT, 'dist', 'cli', 'admin.js');

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

(process.platform === 'win32' ? describe.skip : describe)('embedded DATA_DIR: one process at a time, private to its owner', () => {
  let dataDir: string;
  let lockFile: string;
  /** Embedded mode: no PostgreSQL, no Redis, whatever the test run uses. */
  const env = () => ({ DATA_DIR: dataDir, DATABASE_URL: undefined, REDIS_URL: undefined, LOG_LEVEL: 'warn' });

  function startAdmin(...args: string[]): { child: ChildProcess; done: Promise<Outcome> } {
    const child = spawn(process.execPath, [ADMIN, ...args], { cwd: ROOT, env: { ...process.env, ...env() } });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const done = new Promise<Outcome>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
    return { child, done };
  }
  const admin = (...args: string[]) => startAdmin(...args).done;

  /** Files and folders under DATA_DIR that anyone but the owner may use. */
  function openToOthers(): string[] {
    const found: string[] = [];
    const visit = (dir: string) => {
      if (fs.statSync(dir).mode & 0o077) found.push(dir);
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) visit(full);
        else if (fs.lstatSync(full).mode & 0o077) found.push(full);
      }
    };
    visit(dataDir);
    return found;
  }

  beforeAll(async () => {
    await ensureBuilt();
    dataDir = path.join(fs.mkdtempSync(path.join(tmpdir(), 'lv-data-dir-')), 'data');
    lockFile = path.join(dataDir, LOCK_FILE);
  }, 180_000);
  afterAll(() => fs.rmSync(path.dirname(dataDir), { recursive: true, force: true }));

  it('server first: the admin command line fails at once, naming the server; after the server stops it works', async () => {
    const server = new ServiceProcess(await freePort(), env());
    try {
      await server.ready(120_000);
      // a fresh folder is created private, files and all
      expect((fs.statSync(dataDir).mode & 0o777).toString(8)).toBe('700');
      expect(openToOthers()).toEqual([]);

      const started = Date.now();
      const refused = await admin('org', 'create', '--name', 'lost write');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toBe(
        `error: DATA_DIR ${dataDir} is in use by the server (pid ${server.child.pid}), since ${JSON.parse(fs.readFileSync(lockFile, 'utf8')).since}. ` +
          'The embedded database takes one process at a time. Stop the server first, or point both at PostgreSQL with DATABASE_URL ' +
          '(and REDIS_URL, so that running servers see the change).\n',
      );
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exit(15_000)).toEqual({ code: 0, signal: null });
    }
    expect(fs.existsSync(lockFile)).toBe(false);
    const listed = await admin('org', 'list', '--json');
    expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(listed.stdout).data.map((org: { name: string }) => org.name)).not.toContain('lost write');
    expect(fs.existsSync(lockFile)).toBe(false);
  }, 240_000);

  it('admin command line first: the server does not start, says why, and exits 1; the command completes', async () => {
    const command = startAdmin('org', 'create', '--name', 'kept', '--json');
    // Hold the command while it holds the folder.
    await waitFor('the command to take the lock', async () => fs.existsSync(lockFile) && JSON.parse(fs.readFileSync(lockFile, 'utf8')).pid === command.child.pid, 30_000, 5);
    command.child.kill('SIGSTOP');
    try {
      const server = new ServiceProcess(await freePort(), env());
      const exit = await server.exit(60_000);
      server.kill();
      expect(exit).toEqual({ code: 1, signal: null });
      expect(server.stderr).toContain(
        `Start-up failed: DATA_DIR ${dataDir} is in use by the admin command line (pid ${command.child.pid}), since ` +
          `${JSON.parse(fs.readFileSync(lockFile, 'utf8')).since}. The embedded database takes one process at a time. Wait for it to finish, or stop it.\n`,
      );
      expect(server.stderr.split('\n').at(-2)).toMatch(/^Start-up failed: DATA_DIR /); // the last word is ours
    } finally {
      command.child.kill('SIGCONT');
    }
    const created = await command.done;
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'kept' });
    expect(fs.existsSync(lockFile)).toBe(false);
  }, 240_000);

  it('takes over a lock left by a process that died, and says so', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    fs.writeFileSync(lockFile, JSON.stringify({ pid: dead, role: 'the server', host: hostname(), since: '2026-01-01T00:00:00.000Z' }));
    const listed = await admin('org', 'list', '--json');
    expect(listed.code).toBe(0);
    expect(listed.stderr).toBe(`warning: DATA_DIR ${dataDir}: taking over the lock of the server (pid ${dead}), which no longer runs.\n`);
    expect(JSON.parse(listed.stdout).data.map((org: { name: string }) => org.name)).toContain('kept');
    expect(fs.existsSync(lockFile)).toBe(false);
  }, 120_000);

  it('makes an existing folder open to everyone private again at start', async () => {
    spawnSync('chmod', ['-R', 'a+rwX', dataDir]);
    expect(openToOthers().length).toBeGreaterThan(500);
    const listed = await admin('org', 'list', '--json');
    expect(listed.code).toBe(0);
    expect(openToOthers()).toEqual([]);
  }, 120_000);
});
