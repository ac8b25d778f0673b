import { Injectable } from '@nestjs/common';
import type { Prisma, WebhookAttempt, WebhookEndpoint } from '../generated/prisma/client';
import { PrismaService } from '../database/prisma.service';
import { ListQueryDto, pageArgs } from '../pagination/list-query.dto';

/** The only place webhook endpoints touch Prisma. Every read by id is scoped to the organization in the query. */
@Injectable()
export class WebhooksRepository {
  constructor(private readonly prisma: PrismaService) {}

  findInOrganization(organizationId: string, id: string, tx: Prisma.TransactionClient = this.prisma): Promise<WebhookEndpoint | null> {
    return tx.webhookEndpoint.findFirst({ where: { id, organizationId } });
  }

  list(organizationId: string, query: ListQueryDto): Promise<WebhookEndpoint[]> {
    const { take, orderBy, cursorWhere } = pageArgs(query);
    return this.prisma.webhookEndpoint.findMany({ where: { organizationId, ...cursorWhere }, orderBy, take });
  }

  listAttempts(organizationId: string, endpointId: string, query: ListQueryDto): Promise<WebhookAttempt[]> {
    const { take, orderBy, cursorWhere } = pageArgs(query);
    return this.prisma.webhookAttempt.findMany({ where: { organizationId, endpointId, ...cursorWhere }, orderBy, take });
  }

  count(tx: Prisma.TransactionClient, organizationId: string): Promise<number> {
    return tx.webhookEndpoint.count({ where: { organizationId } });
  }

  /** Serializes the count-then-insert of endpoints per organization across instances (as API keys do). */
  async lockOrganization(tx: Prisma.TransactionClient, organizationId: string): Promise<void> {
    await tx.$queryRaw`SELECT 1 FROM organizations WHERE id = ${organizationId} FOR NO KEY UPDATE`;
  }

  create(tx: Prisma.TransactionClient, data: Prisma.WebhookEndpointUncheckedCreateInput): Promise<WebhookEndpoint> {
    return tx.webhookEndpoint.create({ data });
  }

  /** Scoped update: null when the endpoint is not the organization's (or is gone). */
  async update(tx: Prisma.TransactionClient, organizationId: string, id: string, data: Prisma.WebhookEndpointUncheckedUpdateInput): Promise<WebhookEndpoint | null> {
    const { count } = await tx.webhookEndpoint.updateMany({ where: { id, organizationId }, data });
    return count === 0 ? null : tx.webhookEndpoint.findFirst({ where: { id, organizationId } });
  }

  async delete(tx: Prisma.TransactionClient, organizationId: string, id: string): Promise<boolean> {
    const { count } = await tx.webhookEndpoint.deleteMany({ where: { id, organizationId } });
    return count > 0;
  }

  transaction<T>(fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(fn);
  }
}
