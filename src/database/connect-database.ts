import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import type { PGlite } from '@electric-sql/pglite';
import { PrismaService } from './prisma.service';
import { applyMigrations } from './migrator';

export const MIGRATIONS_DIR = path.resolve(__dirname, '../../prisma/migrations');

export interface DatabaseConnection {
  prisma: PrismaService;
  embedded: boolean;
  close(): Promise<void>;
}

/**
 * PostgreSQL through @prisma/adapter-pg when a URL is given (schema managed by `db:migrate`);
 * otherwise PGlite in `dataDir`, migrated at start so a fresh clone runs with no set-up.
 */
export async function connectDatabase(options: { databaseUrl?: string; dataDir: string }): Promise<DatabaseConnection> {
  if (options.databaseUrl) {
    // Fail fast while PostgreSQL is away: requests answer 503 instead of queueing.
    const adapter = new PrismaPg({ connectionString: options.databaseUrl, max: 10, connectionTimeoutMillis: 2000 });
    const prisma = new PrismaService({ adapter });
    return { prisma, embedded: false, close: () => prisma.$disconnect() };
  }

  const pglite = await openEmbedded(options.dataDir);
  const { PrismaPGlite } = await import('pglite-prisma-adapter');
  await applyMigrations(new PrismaPGlite(pglite), MIGRATIONS_DIR);
  const prisma = new PrismaService({ adapter: new PrismaPGlite(pglite) });
  return {
    prisma,
    embedded: true,
    close: async () => {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}

async function openEmbedded(dataDir: string): Promise<PGlite> {
  const { PGlite } = await import('@electric-sql/pglite');
  if (dataDir !== 'memory://') mkdirSync(dataDir, { recursive: true });
  const pglite = new PGlite(dataDir);
  await pglite.waitReady;
  return pglite;
}
