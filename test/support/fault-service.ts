import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The real service as a separate process (`node dist/main.js`), for tests that need what only a
 * process has: signals, an exit code, its stdout and stderr.
 */

export const ROOT = path.resolve(__dirname, '../..');
const DIST = path.join(ROOT, 'dist');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/** `tsc -p tsconfig.build.json`, skipped when dist/ is newer than every source file. Returns whether it built. */
export async function ensureBuilt(): Promise<boolean> {
  const outputs = [path.join(DIST, 'main.js'), path.join(DIST, 'cli', 'admin.js')];
  if (outputs.every(existsSync)) {
    const built = Math.min(...outputs.map((file) => statSync(file).mtimeMs));
    if (built > newestMtime(path.join(ROOT, 'src'))) return false;
  }
  await run(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], { cwd: ROOT, timeout: 120_000 }).catch(
    (error: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`The build failed:\n${error.stdout ?? ''}${error.stderr ?? error.message}`);
    },
  );
  return true;
}

/** `node dist/cli/admin.js … --json`, parsed. */
export async function admin<T = Record<string, unknown>>(env: NodeJS.ProcessEnv, ...args: string[]): Promise<T> {
  const { stdout } = await run(process.execPath, [path.join(DIST, 'cli', 'admin.js'), ...args, '--json'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  return JSON.parse(stdout) as T;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ServiceProcess {
  readonly child: ChildProcess;
  private readonly chunks: { stream: 'stdout' | 'stderr'; text: string }[] = [];
  readonly exited: Promise<ExitStatus>;

  constructor(
    readonly port: number,
    env: NodeJS.ProcessEnv,
  ) {
    this.child = spawn(process.execPath, [path.join(DIST, 'main.js')], {
      cwd: ROOT,
      env: { ...process.env, ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      this.child[stream]!.setEncoding('utf8');
      this.child[stream]!.on('data', (text: string) => this.chunks.push({ stream, text }));
    }
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    process.once('exit', () => this.child.kill('SIGKILL'));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get stdout(): string {
    return this.chunks.filter((chunk) => chunk.stream === 'stdout').map((chunk) => chunk.text).join('');
  }

  get stderr(): string {
    return this.chunks.filter((chunk) => chunk.stream === 'stderr').map((chunk) => chunk.text).join('');
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once GET /healthz answers 200; fails if the process exits first or the time runs out. */
  async ready(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`The service exited during start:\n${this.stderr || this.stdout}`);
      const ok = await fetch(`${this.url}/healthz`).then((response) => response.ok, () => false);
      if (ok) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`The service did not answer /healthz within ${timeoutMs} ms:\n${this.stderr || this.stdout}`);
  }

  /** Waits for the exit, at most `timeoutMs`; undefined if it has not exited by then. */
  async exit(timeoutMs: number): Promise<ExitStatus | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}
