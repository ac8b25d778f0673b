import { Injectable } from '@nestjs/common';
import type { ApiKey, Prisma } from '../generated/prisma/client';
import { PrismaService } from '../database/prisma.service';
import { ListQueryDto, pageArgs } from '../pagination/list-query.dto';

/** The only place API keys touch Prisma. Every read by id is scoped to the organization in the query. */
@Injectable()
export class ApiKeysRepository {
  constructor(private readonly prisma: PrismaService) {}

  findByHash(keyHash: string): Promise<ApiKey | null> {
    return this.prisma.apiKey.findUnique({ where: { keyHash } });
  }

  findById(id: string): Promise<ApiKey | null> {
    return this.prisma.apiKey.findUnique({ where: { id } });
  }

  findInOrganization(organizationId: string, id: string, tx: Prisma.TransactionClient = this.prisma): Promise<ApiKey | null> {
    return tx.apiKey.findFirst({ where: { id, organizationId } });
  }

  list(organizationId: string, query: ListQueryDto): Promise<ApiKey[]> {
    const { take, orderBy, cursorWhere } = pageArgs(query);
    return this.prisma.apiKey.findMany({ where: { organizationId, ...cursorWhere }, orderBy, take });
  }

  /** Every key of an organization, newest first; revoked ones (stopped by `now`) only when asked. */
  listAll(organizationId: string, options: { includeRevoked: boolean; now: Date }): Promise<ApiKey[]> {
    const live = { OR: [{ revokedAt: null }, { revokedAt: { gt: options.now } }] };
    return this.prisma.apiKey.findMany({ where: { organizationId, ...(options.includeRevoked ? {} : live) }, orderBy: { id: 'desc' } });
  }

  create(tx: Prisma.TransactionClient, data: Prisma.ApiKeyUncheckedCreateInput): Promise<ApiKey> {
    return tx.apiKey.create({ data });
  }

  update(tx: Prisma.TransactionClient, id: string, data: Prisma.ApiKeyUncheckedUpdateInput): Promise<ApiKey> {
    return tx.apiKey.update({ where: { id }, data });
  }

  /**
   * Holds the organization's row until the transaction ends, so that counting its keys and adding
   * one cannot interleave with another instance's. `NO KEY UPDATE`: rows that merely reference the
   * organization (audit events, datasets) are not held up by it.
   */
  async lockOrganization(tx: Prisma.TransactionClient, organizationId: string): Promise<void> {
    await tx.$queryRaw`SELECT 1 FROM organizations WHERE id = ${organizationId} FOR NO KEY UPDATE`;
  }

  /** Keys that still work at `now`: not revoked (or revoked only later, a rotation's grace) and not expired. */
  countActive(organizationId: string, now: Date, tx: Prisma.TransactionClient = this.prisma): Promise<number> {
    return tx.apiKey.count({
      where: {
        organizationId,
        AND: [{ OR: [{ revokedAt: null }, { revokedAt: { gt: now } }] }, { OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] }],
      },
    });
  }

  transaction<T>(fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(fn);
  }
}
