import { Injectable } from '@nestjs/common';
import type { Dataset, Prisma } from '../generated/prisma/client';
import { PrismaService } from '../database/prisma.service';
import { ListQueryDto, pageArgs } from '../pagination/list-query.dto';

/** Every query names the organization: another organization's dataset is simply not found. */
@Injectable()
export class DatasetsRepository {
  constructor(private readonly prisma: PrismaService) {}

  find(organizationId: string, id: string): Promise<Dataset | null> {
    return this.prisma.dataset.findFirst({ where: { id, organizationId } });
  }

  list(organizationId: string, query: ListQueryDto): Promise<Dataset[]> {
    const { take, orderBy, cursorWhere } = pageArgs(query);
    return this.prisma.dataset.findMany({ where: { organizationId, ...cursorWhere }, orderBy, take });
  }

  create(tx: Prisma.TransactionClient, data: Prisma.DatasetUncheckedCreateInput): Promise<Dataset> {
    return tx.dataset.create({ data });
  }

  /** Deletes only within the organization; the count tells whether there was one. */
  async delete(tx: Prisma.TransactionClient, organizationId: string, id: string): Promise<boolean> {
    const { count } = await tx.dataset.deleteMany({ where: { id, organizationId } });
    return count === 1;
  }

  transaction<T>(fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(fn);
  }
}
