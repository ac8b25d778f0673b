import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Project root: bench/dist/*.js → ../.. */
export const ROOT = path.resolve(__dirname, '../..');
export const BENCH_DIR = path.join(ROOT, 'bench');
/** Logs and profiles of a run (ignored by git). */
export const TMP_DIR = path.join(BENCH_DIR, 'tmp');
export const RESULTS_FILE = path.join(BENCH_DIR, 'RESULTS.md');
export const PROFILE_FILE = path.join(BENCH_DIR, 'PROFILE.md');

export function distPath(relative: string): string {
  return path.join(ROOT, 'dist', relative);
}

export interface Settings {
  /** `--profile`: profile S2 under `node`'s inspector instead of the measured run. */
  profile: boolean;
  /** `--no-build`: reuse dist/ as it is (iterating on the bench itself). */
  build: boolean;
  /** `--only=hostile-body`: run H1–H2 alone (a small seed), print their section, leave RESULTS.md as it is. */
  only: 'hostile-body' | undefined;
  hostileSeconds: number;
  hostileConnections: number;
  connections: number;
  rounds: number;
  warmupSeconds: number;
  seconds: number;
  stabilitySeconds: number;
  profileSeconds: number;
  organizations: number;
  keysPerOrganization: number;
  members: number;
  logLevel: string;
  adminDatabaseUrl: string;
  redisUrl: string;
}

/**
 * Defaults fit `npm run bench` into < 5 minutes on 2 cores; each can be changed by an
 * environment variable (`--quick` shortens everything for a smoke run of the bench itself).
 */
export function readSettings(argv: string[], env: NodeJS.ProcessEnv): Settings {
  const flags = new Set(argv);
  const unknown = [...flags].filter((flag) => !['--profile', '--no-build', '--quick', '--only=hostile-body'].includes(flag));
  if (unknown.length > 0) throw new Error(`Unknown option(s) ${unknown.join(' ')}; known: --profile --no-build --quick --only=hostile-body`);
  const quick = flags.has('--quick');
  const only = flags.has('--only=hostile-body') ? 'hostile-body' : undefined;
  const int = (name: string, fallback: number, quickValue = fallback): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return quick ? quickValue : fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`${name} must be a whole number ≥ 1 (got "${raw}")`);
    return Number(raw);
  };
  return {
    profile: flags.has('--profile'),
    build: !flags.has('--no-build'),
    only,
    hostileSeconds: int('BENCH_HOSTILE_SECONDS', 10, 4),
    hostileConnections: int('BENCH_HOSTILE_CONNECTIONS', 4),
    connections: int('BENCH_CONNECTIONS', 50),
    rounds: int('BENCH_ROUNDS', 3, 1),
    warmupSeconds: int('BENCH_WARMUP_SECONDS', 2, 1),
    seconds: int('BENCH_SECONDS', 7, 3),
    stabilitySeconds: int('BENCH_STABILITY_SECONDS', 60, 10),
    profileSeconds: int('BENCH_PROFILE_SECONDS', 20, 5),
    // H1–H2 alone need one key
    organizations: int('BENCH_ORGANIZATIONS', only ? 1 : 8),
    keysPerOrganization: int('BENCH_KEYS_PER_ORGANIZATION', only ? 1 : 40),
    members: int('BENCH_MEMBERS', 120),
    logLevel: env.BENCH_LOG_LEVEL || 'info',
    adminDatabaseUrl: env.BENCH_DATABASE_ADMIN_URL || 'postgresql://postgres@127.0.0.1:5432/postgres',
    redisUrl: env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379/14',
  };
}

/**
 * The Node flags the service runs with in production: those of `npm run serve` in the checkout's
 * package.json (`node <flags> dist/main.js`), so the bench measures the service as it is started.
 */
export function serviceNodeFlags(root: string): string[] {
  const { scripts } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const words = (scripts?.serve ?? 'node dist/main.js').trim().split(/\s+/);
  if (words[0] !== 'node' || words.at(-1) !== 'dist/main.js') {
    throw new Error(`package.json "serve" must be "node [flags] dist/main.js" (got "${scripts?.serve}")`);
  }
  return words.slice(1, -1);
}
