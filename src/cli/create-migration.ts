/**
 * `npm run -s db:migration:create -- --name <name>`: writes prisma/migrations/<timestamp>_<name>/migration.sql for
 * the changes in prisma/schema.prisma, like `prisma migrate dev --create-only`. It diffs against DATABASE_URL when
 * set (applying pending migrations to it first), otherwise against a throwaway in-memory PGlite, so no service is
 * needed.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { environment } from '../config/env-file';
import { createMigration, pgAdapterFactory, type MigrationAdapterFactory } from '../database/migrator';

// Two levels up is the project root from both src/cli/ and dist/cli/.
const ROOT = path.resolve(__dirname, '../..');
const MIGRATIONS_DIR = path.join(ROOT, 'prisma/migrations');
const SCHEMA = path.join(ROOT, 'prisma/schema.prisma');

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { name: { type: 'string' } } });
  const name = values.name?.trim();
  if (!name) throw new Error('a name is required: npm run -s db:migration:create -- --name <name>');

  const databaseUrl = environment().DATABASE_URL;
  let pglite: PGlite | undefined;
  let factory: MigrationAdapterFactory;
  if (databaseUrl) {
    factory = pgAdapterFactory(databaseUrl);
  } else {
    pglite = new PGlite(); // in memory, gone with the process
    factory = new PrismaPGlite(pglite);
  }
  try {
    const folder = await createMigration(factory, MIGRATIONS_DIR, SCHEMA, name);
    const created = folder && path.relative(process.cwd(), path.join(MIGRATIONS_DIR, folder, 'migration.sql'));
    console.log(created ? `Created ${created}` : 'No schema changes.');
  } finally {
    await pglite?.close();
  }
}

// Exit explicitly: nothing left behind (the engine's timers, a pool) may keep a finished command alive.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    const stack = process.env.DEBUG && error instanceof Error ? error.stack : undefined;
    console.error(stack ?? `Could not create the migration: ${message}`);
    process.exit(1);
  },
);
