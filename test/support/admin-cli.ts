import { execFile } from 'node:child_process';

/** The admin command line run as an operator runs it: a process of its own. */

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall-clock time of the whole process. */
  ms: number;
}

export type EnvOverrides = Record<string, string | undefined>;

/** The test's environment with `overrides` applied (undefined removes a variable). */
export function envWith(overrides: EnvOverrides): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...overrides };
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete env[name];
  return env;
}

export function execute(file: string, args: string[], cwd: string, overrides: EnvOverrides = {}, timeout = 60_000): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, env: envWith(overrides), timeout, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const failed = error as (Error & { code?: unknown; killed?: boolean }) | null;
      if (failed && (typeof failed.code !== 'number' || failed.killed)) {
        reject(new Error(`${file} ${args.join(' ')} did not finish: ${failed.message}\n${stderr}`));
        return;
      }
      resolve({ code: failed ? (failed.code as number) : 0, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** The documented entry point: `npm run -s admin -- …` in the project folder `cwd`. */
export function npmAdmin(cwd: string, overrides: EnvOverrides, args: string[], timeout?: number): Promise<Outcome> {
  return execute('npm', ['run', '-s', 'admin', '--', ...args], cwd, overrides, timeout);
}

/** stdout of a `--json` command: exactly one line holding one JSON object, then the final newline. */
export function oneJsonObject(text: string): Record<string, unknown> {
  const lines = text.split('\n');
  expect({ lines: lines.length, last: lines[lines.length - 1] }).toEqual({ lines: 2, last: '' });
  const value = JSON.parse(lines[0]) as unknown;
  expect(value !== null && typeof value === 'object' && !Array.isArray(value)).toBe(true);
  return value as Record<string, unknown>;
}

/** Runs `task` over `items` a few at a time: each command is a whole Node process. */
export async function inBatches<T, R>(items: T[], task: (item: T) => Promise<R>, size = 4): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size) results.push(...(await Promise.all(items.slice(start, start + size).map(task))));
  return results;
}
