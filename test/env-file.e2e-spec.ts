import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, ensureBuilt } from './support/fault-service';

/**
 * `.env` as an operator uses it: `node dist/main.js` started in a folder holding a `.env`, with
 * an environment of its own. The file is read; a variable the environment sets wins.
 */

const MAIN = path.join(ROOT, 'dist', 'main.js');

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(cwd: string, env: Record<string, string>): Started {
  // Only what the test gives: the runner's own DATABASE_URL & co. must not leak in.
  const child = spawn(process.execPath, [MAIN], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The first-start key, once the server answers on `port`. */
async function firstKey(started: Started, port: number): Promise<string> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (started.child.exitCode !== null) throw new Error(`The service exited during start:\n${started.output()}`);
    const key = /luci_[A-Za-z0-9]+/.exec(started.output())?.[0];
    const up = await fetch(`http://127.0.0.1:${port}/healthz`).then((response) => response.ok, () => false);
    if (key && up) return key;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`The service did not start on port ${port}:\n${started.output()}`);
}

describe('.env in the working directory (node dist/main.js)', () => {
  const folders: string[] = [];
  const children: ChildProcess[] = [];

  function folderWith(envFile: string): string {
    const folder = mkdtempSync(path.join(tmpdir(), 'lv-env-e2e-'));
    folders.push(folder);
    writeFileSync(path.join(folder, '.env'), envFile);
    return folder;
  }

  beforeAll(async () => {
    await ensureBuilt();
  }, 180_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });

  it('honours PORT and RATE_LIMIT_MAX from .env unless the environment sets them', async () => {
    const [filePort, envPort] = [await freePort(), await freePort()];
    const envFile = `# the service's own settings\nPORT=${filePort}\nRATE_LIMIT_MAX=3\nRATE_LIMIT_WINDOW_SECONDS=30\nDATA_DIR=data\n`;
    // A: the environment sets RATE_LIMIT_MAX only. B: it sets PORT only.
    const a = { started: start(folderWith(envFile), { RATE_LIMIT_MAX: '5' }), port: filePort, limit: '5' };
    const b = { started: start(folderWith(envFile), { PORT: String(envPort) }), port: envPort, limit: '3' };
    children.push(a.started.child, b.started.child);

    for (const run of [a, b]) {
      const key = await firstKey(run.started, run.port);
      const response = await fetch(`http://127.0.0.1:${run.port}/v1/organization`, { headers: { Authorization: `Bearer ${key}` } });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-ratelimit-limit')).toBe(run.limit);
      expect(response.headers.get('ratelimit-policy')).toBe(`"default";q=${run.limit};w=30`);
    }
    // B's file asked for filePort, which A holds: B listens where its environment said instead.
    expect(b.started.output()).not.toMatch(/EADDRINUSE/);
  }, 240_000);

  it('refuses to start on a malformed .env, naming the file and the line', async () => {
    const folder = folderWith('PORT=0\nRATE_LIMIT_MAX 5\n');
    const started = start(folder, {});
    children.push(started.child);
    expect(await started.exited).toBe(1);
    expect(started.output()).toBe(
      `Invalid ${path.join(folder, '.env')}:\n  - line 2: expected NAME=value (NAME: letters, digits and _, not starting with a digit)\n`,
    );
  }, 30_000);
});
