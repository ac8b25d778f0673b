import { Injectable } from '@nestjs/common';
import type { AuditEvent } from '../generated/prisma/client';
import { PrismaService } from '../database/prisma.service';
import { pageArgs } from '../pagination/list-query.dto';
import { AuditQueryDto } from './dto/audit-query.dto';

/** Reads only: events are written by AuditService inside the change they record. */
@Injectable()
export class AuditEventsRepository {
  constructor(private readonly prisma: PrismaService) {}

  list(organizationId: string, query: AuditQueryDto): Promise<AuditEvent[]> {
    const { take, orderBy, cursorWhere } = pageArgs(query);
    return this.prisma.auditEvent.findMany({
      where: {
        organizationId,
        ...cursorWhere,
        ...(query.type ? { type: query.type } : {}),
        ...(query.since ? { createdAt: { gte: query.since } } : {}),
      },
      orderBy,
      take,
    });
  }
}
