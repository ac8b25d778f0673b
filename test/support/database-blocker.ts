import { Client } from 'pg';
import { waitFor } from './waiting';

/**
 * A PostgreSQL session a test uses to hold a lock, so that an app's request stalls at a known
 * statement — then tells when some other session waits on it.
 */
export class DatabaseBlocker {
  private constructor(
    private readonly client: Client,
    private readonly pid: number,
  ) {}

  static async connect(databaseUrl: string): Promise<DatabaseBlocker> {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return new DatabaseBlocker(client, rows[0].pid);
  }

  query(sql: string, values: unknown[] = []): Promise<{ rows: Record<string, unknown>[] }> {
    return this.client.query(sql, values);
  }

  /** Opens a transaction and runs `statements` in it; the locks they take hold until `release`. */
  async hold(...statements: string[]): Promise<void> {
    await this.client.query('BEGIN');
    for (const statement of statements) await this.client.query(statement);
  }

  /** Resolves once another session is blocked by this one. */
  async waitUntilSomeoneWaits(timeoutMs = 5_000): Promise<void> {
    await waitFor(
      'a session blocked by the test’s lock',
      async () => {
        const { rows } = await this.client.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
          [this.pid],
        );
        return rows[0].n > 0;
      },
      timeoutMs,
    );
  }

  async release(): Promise<void> {
    await this.client.query('ROLLBACK');
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}
