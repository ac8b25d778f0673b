import { PrismaClient } from '../generated/prisma/client';

/**
 * The Prisma client, as an injection token. Built by DatabaseModule on PostgreSQL
 * (DATABASE_URL) or on the embedded PGlite database; repositories are its only users.
 */
export class PrismaService extends PrismaClient {}
