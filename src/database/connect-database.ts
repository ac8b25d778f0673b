import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import type { PGlite } from '@electric-sql/pglite';
import { lockDataDir } from './data-dir-lock';
import { secureDataDir, tightenDataDir } from './data-dir-permissions';
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
 * otherwise PGlite in `dataDir`, migrated at start so a fresh clone runs with no set-up — private
 * to this user, and to this process while it is open (see data-dir-lock, data-dir-permissions).
 */
export async function connectDatabase(options: { databaseUrl?: string; dataDir: string }): Promise<DatabaseConnection> {
  if (options.databaseUrl) {
    // Fail fast while PostgreSQL is away: requests answer 503 instead of queueing.
    const adapter = new PrismaPg({ connectionString: options.databaseUrl, max: 10, connectionTimeoutMillis: 2000 });
    const prisma = new PrismaService({ adapter });
    return { prisma, embedded: false, close: () => prisma.$disconnect() };
  }

  const { pglite, release } = await openEmbedded(options.dataDir);
  try {
    const { PrismaPGlite } = await import('pglite-prisma-adapter');
    await applyMigrations(new PrismaPGlite(pglite), MIGRATIONS_DIR);
    const prisma = new PrismaService({ adapter: new PrismaPGlite(pglite) });
    return {
      prisma,
      embedded: true,
      close: async () => {
        try {
          await prisma.$disconnect();
          await pglite.close();
        } finally {
          release();
        }
      },
    };
  } catch (error) {
    await pglite.close().catch(() => undefined);
    release();
    throw error;
  }
}

async function openEmbedded(dataDir: string): Promise<{ pglite: PGlite; release: () => void }> {
  const { PGlite } = await import('@electric-sql/pglite');
  if (dataDir === 'memory://') return { pglite: await ready(new PGlite(dataDir)), release: () => undefined };
  const notice = (line: string) => process.stderr.write(`${line}\n`);
  secureDataDir(dataDir, notice);
  const lock = lockDataDir(dataDir, notice);
  try {
    const pglite = await ready(new PGlite(dataDir));
    tightenDataDir(dataDir, notice);
    return { pglite, release: lock.release };
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function ready(pglite: PGlite): Promise<PGlite> {
  await pglite.waitReady;
  return pglite;
}
