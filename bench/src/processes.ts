import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ROOT, TMP_DIR } from './settings';

/** A Node child process this run started; only these are ever signalled. */
export interface Child {
  name: string;
  process: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
  errorLog: string;
}

const children = new Set<Child>();

/**
 * Starts `node <args>` from the project root. stdout goes to /dev/null unless `stdoutFile` is
 * given (the service logs one line per request: thousands a second), stderr to bench/tmp/<name>.err.log.
 */
export function startNode(name: string, args: string[], env: NodeJS.ProcessEnv, stdoutFile?: string, cwd = ROOT): Child {
  const errorLog = path.join(TMP_DIR, `${name}.err.log`);
  const out = openSync(stdoutFile ?? '/dev/null', 'w');
  const err = openSync(errorLog, 'w');
  const process_ = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', out, err] });
  closeSync(out);
  closeSync(err);
  const exited = new Promise<number | null>((resolve) => process_.once('exit', (code) => resolve(code)));
  const child: Child = { name, process: process_, pid: process_.pid!, exited, errorLog };
  children.add(child);
  void exited.then(() => children.delete(child));
  return child;
}

export function isRunning(child: Child): boolean {
  return child.process.exitCode === null && child.process.signalCode === null;
}

/** SIGTERM, then SIGKILL after `graceMs` — to this child's pid only. */
export async function stopChild(child: Child, graceMs = 15_000): Promise<void> {
  if (!isRunning(child)) return;
  child.process.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (isRunning(child)) child.process.kill('SIGKILL');
  }, graceMs);
  await child.exited;
  clearTimeout(timer);
}

export async function stopAllChildren(): Promise<void> {
  await Promise.all([...children].map((child) => stopChild(child)));
}

export function errorLogTail(child: Child, lines = 30): string {
  if (!existsSync(child.errorLog)) return '';
  return readFileSync(child.errorLog, 'utf8').trim().split('\n').slice(-lines).join('\n');
}

/** Polls `url` until it answers `status`; fails early if the child dies. */
export async function waitForHttp(url: string, child: Child, timeoutMs = 60_000, status = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isRunning(child)) throw new Error(`${child.name} exited during start-up:\n${errorLogTail(child)}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === status) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${child.name} did not answer ${url} within ${timeoutMs} ms:\n${errorLogTail(child)}`);
    await sleep(100);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** VmRSS and VmHWM (peak RSS) of a process, in bytes. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match) throw new Error(`/proc/${pid}/status has no ${name}`);
    return Number(match[1]) * 1024;
  };
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

/** Runs a command to completion from the project root; its output is shown only if it fails. */
export function runQuietly(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const result = spawnSync(command, args, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
