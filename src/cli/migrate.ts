/**
 * `npm run -s db:migrate`: applies pending prisma/migrations to DATABASE_URL, like `prisma migrate deploy`
 * (which needs Prisma's native engine; see src/database/migrator.ts).
 */
import path from 'node:path';
import { environment } from '../config/env-file';
import { applyMigrations, pgAdapterFactory } from '../database/migrator';

// Two levels up is the project root from both src/cli/ and dist/cli/.
const MIGRATIONS_DIR = path.resolve(__dirname, '../../prisma/migrations');

async function main(): Promise<void> {
  const databaseUrl = environment().DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is not set: it names the PostgreSQL database to migrate.');
  const applied = await applyMigrations(pgAdapterFactory(databaseUrl), MIGRATIONS_DIR);
  for (const name of applied) console.log(`Applied migration ${name}`);
  if (applied.length === 0) console.log('Database is up to date.');
}

// Exit explicitly: nothing left behind (the engine's timers, a pool) may keep a finished command alive.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    const stack = process.env.DEBUG && error instanceof Error ? error.stack : undefined;
    console.error(stack ?? `Migration failed: ${message}`);
    process.exit(1);
  },
);
