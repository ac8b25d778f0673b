import { Injectable } from '@nestjs/common';
import type { EnterpriseRecord, Prisma } from '../generated/prisma/client';
import { PrismaService } from '../database/prisma.service';
import { ListQueryDto, pageArgs } from '../pagination/list-query.dto';

/** Every query names both the organization and the kind. */
@Injectable()
export class RecordsRepository {
  constructor(private readonly prisma: PrismaService) {}

  find(organizationId: string, kind: string, id: string): Promise<EnterpriseRecord | null> {
    return this.prisma.enterpriseRecord.findFirst({ where: { id, organizationId, kind } });
  }

  list(organizationId: string, kind: string, query: ListQueryDto): Promise<EnterpriseRecord[]> {
    const { take, orderBy, cursorWhere } = pageArgs(query);
    return this.prisma.enterpriseRecord.findMany({ where: { organizationId, kind, ...cursorWhere }, orderBy, take });
  }

  create(tx: Prisma.TransactionClient, data: Prisma.EnterpriseRecordUncheckedCreateInput): Promise<EnterpriseRecord> {
    return tx.enterpriseRecord.create({ data });
  }

  async delete(tx: Prisma.TransactionClient, organizationId: string, kind: string, id: string): Promise<boolean> {
    const { count } = await tx.enterpriseRecord.deleteMany({ where: { id, organizationId, kind } });
    return count === 1;
  }

  transaction<T>(fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(fn);
  }
}
