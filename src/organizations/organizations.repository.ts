import { Injectable } from '@nestjs/common';
import type { Organization, Prisma } from '../generated/prisma/client';
import type { LeakResponse, Tier } from '../generated/prisma/enums';
import { PrismaService } from '../database/prisma.service';

@Injectable()
export class OrganizationsRepository {
  constructor(private readonly prisma: PrismaService) {}

  findById(id: string): Promise<Organization | null> {
    return this.prisma.organization.findUnique({ where: { id } });
  }

  findByStytchId(stytchOrganizationId: string): Promise<Organization | null> {
    return this.prisma.organization.findUnique({ where: { stytchOrganizationId } });
  }

  list(): Promise<Organization[]> {
    return this.prisma.organization.findMany({ orderBy: { id: 'asc' } });
  }

  create(tx: Prisma.TransactionClient, data: Prisma.OrganizationCreateInput): Promise<Organization> {
    return tx.organization.create({ data });
  }

  setTier(tx: Prisma.TransactionClient, id: string, tier: Tier): Promise<Organization> {
    return tx.organization.update({ where: { id }, data: { tier } });
  }

  /** The current choice, the row locked until the transaction ends; null: no such organization. */
  async leakResponseForUpdate(tx: Prisma.TransactionClient, id: string): Promise<LeakResponse | null> {
    const rows = await tx.$queryRaw<Array<{ leak_response: LeakResponse }>>`
      SELECT leak_response::text AS leak_response FROM organizations WHERE id = ${id} FOR NO KEY UPDATE`;
    return rows[0]?.leak_response ?? null;
  }

  setLeakResponse(tx: Prisma.TransactionClient, id: string, leakResponse: LeakResponse): Promise<Organization> {
    return tx.organization.update({ where: { id }, data: { leakResponse } });
  }

  transaction<T>(fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(fn);
  }
}
