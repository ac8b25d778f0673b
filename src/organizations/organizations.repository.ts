import { Injectable } from '@nestjs/common';
import type { Organization, Prisma } from '../generated/prisma/client';
import type { Tier } from '../generated/prisma/enums';
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

  transaction<T>(fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(fn);
  }
}
