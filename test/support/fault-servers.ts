import { ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { MIGRATIONS_DIR } from '../../src/database/connect-database';
import { applyMigrations, pgAdapterFactory } from '../../src/database/migrator';
import { redisReplies, until } from '../../bench/src/raw-redis';

const run = promisify(execFile);

/**
 * Private PostgreSQL and Redis servers a test starts, stops and restarts itself, so a fault it
 * causes reaches nothing but its own application. Everything they leave lives in a temp folder.
 */

const PG_BIN = process.env.LV_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** Why the private servers cannot run here, or undefined when they can. */
export function privateServersUnavailable(): string | undefined {
  if (!existsSync(path.join(PG_BIN, 'initdb')) || !existsSync(path.join(PG_BIN, 'pg_ctl'))) return `no initdb/pg_ctl in ${PG_BIN}`;
  if (spawnSync('redis-server', ['--version']).status !== 0) return 'no redis-server on PATH';
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0) return 'running as root without a postgres user';
  return undefined;
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const live = new Set<{ kill(): void }>();
process.once('exit', () => {
  for (const server of live) server.kill();
});

/** `redis-server` as a child process on its own port, without persistence: a restart loses everything. */
export class PrivateRedis {
  private child?: ChildProcess;
  private readonly killer = { kill: () => this.child?.kill('SIGKILL') };

  private constructor(readonly port: number) {}

  static async create(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  async start(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
    this.child = spawn('redis-server', args, { stdio: 'ignore' });
    live.add(this.killer);
    const exited = new Promise<never>((_, reject) =>
      this.child!.once('exit', (code) => reject(new Error(`redis-server exited (${code}) on start`))),
    );
    exited.catch(() => undefined);
    await Promise.race([until(`redis-server on ${this.port}`, () => redisReplies(this.port, 'PING', '+PONG'), 5000), exited]);
  }

  /** Stops the server the way a crash or a failover would: connections cut, state gone. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
    live.delete(this.killer);
    this.child = undefined;
  }
}

/** A PostgreSQL cluster made with `initdb` in a temp folder, run as the `postgres` OS user when we are root. */
export class PrivatePostgres {
  private readonly killer = { kill: () => this.pgCtlSync(['stop', '-m', 'immediate']) };

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async create(database = 'lv_faults'): Promise<PrivatePostgres> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lv-faults-pg-'));
    const postgres = new PrivatePostgres(dir, await freePort());
    if (process.getuid?.() === 0) {
      const uid = Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim());
      const gid = Number(spawnSync('id', ['-g', 'postgres']).stdout.toString().trim());
      chownSync(dir, uid, gid);
    }
    await postgres.exec('initdb', ['-D', postgres.dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    await postgres.start();
    const admin = new Client({ host: '127.0.0.1', port: postgres.port, user: 'postgres', database: 'postgres' });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${database}`);
    } finally {
      await admin.end();
    }
    postgres.database = database;
    await applyMigrations(pgAdapterFactory(postgres.url), MIGRATIONS_DIR);
    return postgres;
  }

  private database = 'postgres';

  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${this.database}`;
  }

  /** Starts (or restarts) on the same port; returns once it accepts connections. */
  async start(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
    ].join(' ');
    await this.exec('pg_ctl', ['-D', this.dataDir, '-o', options, '-l', path.join(this.dir, 'server.log'), '-w', '-t', '20', 'start']);
    live.add(this.killer);
  }

  /** `pg_ctl stop -m fast`: open sessions are terminated, new connections refused. */
  async stop(): Promise<void> {
    await this.exec('pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', '-t', '20', 'stop']);
    live.delete(this.killer);
  }

  /** Stops the server if it runs and removes its folder. */
  async dispose(): Promise<void> {
    await this.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async exec(binary: string, args: string[]): Promise<void> {
    const [file, fileArgs] = this.asPostgres(path.join(PG_BIN, binary), args);
    await run(file, fileArgs, { timeout: 30_000 });
  }

  private pgCtlSync(args: string[]): void {
    const [file, fileArgs] = this.asPostgres(path.join(PG_BIN, 'pg_ctl'), ['-D', this.dataDir, ...args]);
    spawnSync(file, fileArgs, { stdio: 'ignore', timeout: 10_000 });
  }

  /** initdb and postgres refuse to run as root. */
  private asPostgres(file: string, args: string[]): [string, string[]] {
    return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
  }
}
