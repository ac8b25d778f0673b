import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A throwaway database for one run: `lv_bench_<random>`. */
export async function createDatabase(adminUrl: string): Promise<string> {
  const name = `lv_bench_${randomBytes(6).toString('hex')}`;
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  return name;
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  if (!/^lv_bench_[0-9a-f]+$/.test(name)) throw new Error(`refusing to drop ${name}`);
  await withClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

export interface PostgresInfo {
  version: string;
  /** pg_stat_statements counts statements only when preloaded (needs a server restart to add). */
  statStatementsPreloaded: boolean;
  statStatementsInstallable: boolean;
}

export async function postgresInfo(adminUrl: string): Promise<PostgresInfo> {
  return withClient(adminUrl, async (client) => {
    const version = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
    const preload = (await client.query<{ shared_preload_libraries: string }>('SHOW shared_preload_libraries')).rows[0].shared_preload_libraries;
    const available = await client.query("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements'");
    return {
      version,
      statStatementsPreloaded: preload.split(',').map((name) => name.trim()).includes('pg_stat_statements'),
      statStatementsInstallable: available.rowCount === 1,
    };
  });
}

/** Committed + rolled-back transactions of one database (each autocommit statement is one). */
export async function transactions(adminUrl: string, name: string): Promise<number> {
  return withClient(adminUrl, async (client) => {
    const { rows } = await client.query<{ n: string }>(
      'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1',
      [name],
    );
    return Number(rows[0].n);
  });
}

export interface TableCounters {
  seq_scan: number;
  idx_scan: number;
  inserted: number;
  updated: number;
  deleted: number;
  /** Scans by index name: the hot path would read `api_keys_key_hash_key`; the usage flusher joins on `api_keys_pkey`. */
  indexes: Record<string, number>;
}

/**
 * Per-table access counters, read over a connection that is closed at once: the backend flushes
 * its own statistics when it exits, so this read is not counted inside a later measurement window.
 */
export async function tableCounters(url: string): Promise<Record<string, TableCounters>> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<Record<string, string>>(
      `SELECT relname, seq_scan, coalesce(idx_scan, 0) AS idx_scan, n_tup_ins, n_tup_upd, n_tup_del
         FROM pg_stat_user_tables;`,
    );
    const indexes = await client.query<Record<string, string>>('SELECT relname, indexrelname, idx_scan FROM pg_stat_user_indexes');
    return Object.fromEntries(
      rows.map((row) => [
        row.relname,
        {
          seq_scan: Number(row.seq_scan),
          idx_scan: Number(row.idx_scan),
          inserted: Number(row.n_tup_ins),
          updated: Number(row.n_tup_upd),
          deleted: Number(row.n_tup_del),
          indexes: Object.fromEntries(
            indexes.rows.filter((index) => index.relname === row.relname).map((index) => [index.indexrelname, Number(index.idx_scan)]),
          ),
        },
      ]),
    );
  });
}

export function diffTables(before: Record<string, TableCounters>, after: Record<string, TableCounters>): Record<string, TableCounters> {
  const result: Record<string, TableCounters> = {};
  for (const [table, counters] of Object.entries(after)) {
    const base = before[table] ?? { seq_scan: 0, idx_scan: 0, inserted: 0, updated: 0, deleted: 0, indexes: {} };
    const indexes = Object.fromEntries(
      Object.entries(counters.indexes)
        .map(([name, scans]): [string, number] => [name, scans - (base.indexes[name] ?? 0)])
        .filter(([, scans]) => scans !== 0),
    );
    const delta = {
      seq_scan: counters.seq_scan - base.seq_scan,
      idx_scan: counters.idx_scan - base.idx_scan,
      inserted: counters.inserted - base.inserted,
      updated: counters.updated - base.updated,
      deleted: counters.deleted - base.deleted,
      indexes,
    };
    if (delta.seq_scan || delta.idx_scan || delta.inserted || delta.updated || delta.deleted) result[table] = delta;
  }
  return result;
}
