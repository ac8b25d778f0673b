import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Client } from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { applyMigrations, createMigration, pgAdapterFactory } from './migrator';

const ROOT = path.resolve(__dirname, '../..');
const MIGRATIONS_DIR = path.join(ROOT, 'prisma/migrations');
const SCHEMA = path.join(ROOT, 'prisma/schema.prisma');
// Same server as the end-to-end suite (test/support/global-setup.ts); this spec makes its own throwaway databases.
const ADMIN_URL = process.env.TEST_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';

type Query = (sql: string) => Promise<{ rows: Record<string, unknown>[] }>;

async function committedMigrations(): Promise<string[]> {
  const entries = await readdir(MIGRATIONS_DIR, { withFileTypes: true });
  return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
}

/** What `prisma migrate deploy` leaves behind: the tables, and one finished, not rolled back row per migration. */
async function expectMigrated(query: Query, names: string[]): Promise<void> {
  const { rows: tables } = await query(`SELECT to_regclass('public.organizations') IS NOT NULL AS present`);
  expect(tables[0].present).toBe(true);
  const { rows } = await query(
    `SELECT migration_name, finished_at IS NOT NULL AS finished, rolled_back_at, applied_steps_count,
            length(checksum) AS checksum_length
     FROM _prisma_migrations ORDER BY migration_name`,
  );
  expect(rows).toEqual(
    names.map((name) => ({
      migration_name: name,
      finished: true,
      rolled_back_at: null,
      applied_steps_count: 1,
      checksum_length: 64,
    })),
  );
}

describe('migrator', () => {
  let names: string[];
  beforeAll(async () => {
    names = await committedMigrations();
    expect(names.length).toBeGreaterThan(0);
  });

  describe('on PostgreSQL', () => {
    const admin = new Client(ADMIN_URL);
    const database = `lv_mig_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
    const url = new URL(ADMIN_URL);
    url.pathname = `/${database}`;
    const db = new Client(url.toString());
    let scratchDir: string | undefined;
    const shadowDatabases = async () =>
      (await admin.query(`SELECT datname FROM pg_database WHERE datname LIKE 'prisma_migrate_shadow_db_%'`)).rows;

    beforeAll(async () => {
      await admin.connect();
      await admin.query(`CREATE DATABASE "${database}"`);
      await db.connect();
    });

    afterAll(async () => {
      await db.end();
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await admin.end();
      if (scratchDir) await rm(scratchDir, { recursive: true, force: true });
    });

    it('applies the committed migrations once, recording them as Prisma does', async () => {
      expect(await applyMigrations(pgAdapterFactory(url.toString()), MIGRATIONS_DIR)).toEqual(names);
      await expectMigrated((sql) => db.query(sql), names);
      expect(await applyMigrations(pgAdapterFactory(url.toString()), MIGRATIONS_DIR)).toEqual([]);
    });

    it('finds schema.prisma fully migrated, even past hand-written SQL', async () => {
      // A copy of the migrations, so nothing is ever written into the repository, plus SQL that the adapters used to
      // break: a CHECK constraint (a "char" column in pg_catalog) and ";" inside a function body and a string.
      scratchDir = await mkdtemp(path.join(os.tmpdir(), 'lv-migrations-'));
      await cp(MIGRATIONS_DIR, scratchDir, { recursive: true });
      const handWritten = path.join(scratchDir, '99990101000000_hand_written');
      await mkdir(handWritten);
      await writeFile(
        path.join(handWritten, 'migration.sql'),
        `ALTER TABLE "organizations" ADD CONSTRAINT "organizations_name_check" CHECK ("name" <> '');
         CREATE FUNCTION lv_semicolons() RETURNS text AS $$ BEGIN RETURN 'a;b'; END; $$ LANGUAGE plpgsql;`,
      );

      const shadowsBefore = await shadowDatabases();
      const created = await createMigration(pgAdapterFactory(url.toString()), scratchDir, SCHEMA, 'unexpected');
      if (created !== null) {
        const sql = await readFile(path.join(scratchDir, created, 'migration.sql'), 'utf8');
        throw new Error(`schema.prisma has changes that no migration covers (npm run -s db:migration:create):\n${sql}`);
      }
      expect((await db.query('SELECT lv_semicolons() AS value')).rows[0].value).toBe('a;b');
      expect(await shadowDatabases()).toEqual(shadowsBefore); // its shadow databases are dropped again
    });

    it('reports a database it cannot reach as a readable error', async () => {
      const unreachable = pgAdapterFactory('postgresql://postgres@127.0.0.1:1/none');
      await expect(applyMigrations(unreachable, MIGRATIONS_DIR)).rejects.toThrow(
        "Can't reach database server at `127.0.0.1:1`",
      );
    });
  });

  describe('on PGlite in memory', () => {
    let pglite: PGlite;
    beforeAll(async () => {
      pglite = new PGlite(); // ~4 s to initialise
      await pglite.waitReady;
    });
    afterAll(() => pglite.close());

    it('applies the committed migrations once, recording them as Prisma does', async () => {
      expect(await applyMigrations(new PrismaPGlite(pglite), MIGRATIONS_DIR)).toEqual(names);
      await expectMigrated((sql) => pglite.query(sql), names);
      expect(await applyMigrations(new PrismaPGlite(pglite), MIGRATIONS_DIR)).toEqual([]);
    });

    it('rejects with the database error when a migration fails, and records the failure', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'lv-migrations-'));
      try {
        await cp(MIGRATIONS_DIR, dir, { recursive: true });
        await mkdir(path.join(dir, '99990101000000_broken'));
        const broken = 'CREATE TABLE lv_half (id int);\nSELECT missing FROM lv_half;';
        await writeFile(path.join(dir, '99990101000000_broken', 'migration.sql'), broken);

        await expect(applyMigrations(new PrismaPGlite(pglite), dir)).rejects.toThrow('column not found: missing');
        // One implicit transaction, as with Prisma's native engine: nothing of the failed script remains.
        expect((await pglite.query(`SELECT to_regclass('lv_half') AS t`)).rows).toEqual([{ t: null }]);
        await expect(applyMigrations(new PrismaPGlite(pglite), dir)).rejects.toThrow('migrate found failed migrations');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});
