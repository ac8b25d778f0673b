import { Injectable } from '@nestjs/common';
import type { ApiKey, Prisma } from '../generated/prisma/client';
import type { LeakResponse } from '../generated/prisma/enums';
import { PrismaService } from '../database/prisma.service';
import { newId } from '../database/ids';

/** The only place secret scanning touches Prisma. */
@Injectable()
export class SecretScanningRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Keys found by the hashes of a report's well-formed tokens: one query for the whole report. */
  keysByHash(hashes: string[]): Promise<ApiKey[]> {
    return this.prisma.apiKey.findMany({ where: { keyHash: { in: hashes } } });
  }

  async alreadyReported(apiKeyId: string, urlHash: string): Promise<boolean> {
    return (await this.prisma.leakedKeyReport.findUnique({ where: { apiKeyId_urlHash: { apiKeyId, urlHash } } })) !== null;
  }

  /** The organization's choice, read fresh: it may have changed on another instance a moment ago. */
  async leakResponseOf(organizationId: string): Promise<LeakResponse> {
    const organization = await this.prisma.organization.findUnique({ where: { id: organizationId }, select: { leakResponse: true } });
    return organization?.leakResponse ?? 'revoke';
  }

  /**
   * Records that the key was found at the URL; false when that was recorded already (a replay, or
   * the same report racing itself: the unique index lets exactly one of them in).
   */
  async recordReport(tx: Prisma.TransactionClient, key: Pick<ApiKey, 'id' | 'organizationId'>, urlHash: string): Promise<boolean> {
    const { count } = await tx.leakedKeyReport.createMany({
      data: [{ id: newId('leak'), apiKeyId: key.id, organizationId: key.organizationId, urlHash }],
      skipDuplicates: true,
    });
    return count === 1;
  }

  transaction<T>(fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(fn);
  }
}
