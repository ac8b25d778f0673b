import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../database/prisma.service';
import type { UsageBatch, UsageCount } from '../../store/admission-store';
import type { Granularity } from '../dto/usage-query.dto';

export interface UsageBucket {
  timestamp: Date;
  requests: number;
  rate_limited: number;
}

/** Long past any batch's second hand-out (a claim lasts a minute): the ids only guard against doubles. */
const APPLIED_BATCHES_KEPT_DAYS = 7;

@Injectable()
export class UsageRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Adds drained batches, each once: their ids are recorded in the same transaction, so a batch
   * handed out again (its first writer died, or lost Redis, before the store forgot it) adds
   * nothing. Then one statement for the counts, one for last use, over the new batches merged.
   */
  async add(batches: UsageBatch[]): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const fresh = await tx.$queryRaw<{ id: string }[]>`
        INSERT INTO usage_batches (id) SELECT unnest(${batches.map((batch) => batch.id)}::text[])
        ON CONFLICT (id) DO NOTHING RETURNING id`;
      if (fresh.length === 0) return;
      await tx.$executeRaw`DELETE FROM usage_batches WHERE applied_at < now() - ${`${APPLIED_BATCHES_KEPT_DAYS} days`}::interval`;
      const freshIds = new Set(fresh.map((row) => row.id));
      const { counts, lastUsed } = merge(batches.filter((batch) => freshIds.has(batch.id)));
      if (counts.length > 0) {
        await tx.$executeRaw`
          INSERT INTO api_key_usage (api_key_id, organization_id, minute, requests, rate_limited)
          SELECT u.key_id, k.organization_id, to_timestamp(u.minute_ms / 1000.0), u.requests, u.rate_limited
          FROM unnest(${counts.map((c) => c.keyId)}::text[], ${counts.map((c) => c.minuteMs)}::bigint[],
                      ${counts.map((c) => c.requests)}::int[], ${counts.map((c) => c.rateLimited)}::int[])
               AS u(key_id, minute_ms, requests, rate_limited)
          JOIN api_keys k ON k.id = u.key_id
          ON CONFLICT (api_key_id, minute) DO UPDATE
            SET requests = api_key_usage.requests + EXCLUDED.requests,
                rate_limited = api_key_usage.rate_limited + EXCLUDED.rate_limited`;
      }
      if (lastUsed.length > 0) {
        await tx.$executeRaw`
          UPDATE api_keys k SET last_used_at = GREATEST(k.last_used_at, to_timestamp(u.at_ms / 1000.0))
          FROM unnest(${lastUsed.map((u) => u.keyId)}::text[], ${lastUsed.map((u) => u.atMs)}::bigint[]) AS u(key_id, at_ms)
          WHERE k.id = u.key_id`;
      }
    });
  }

  /** Sums of minutes per bucket, only buckets with traffic, oldest first. Scoped by organization in the query. */
  async buckets(organizationId: string, keyId: string, granularity: Granularity, from: Date, to: Date): Promise<UsageBucket[]> {
    const rows = await this.prisma.$queryRaw<{ bucket: Date; requests: number; rate_limited: number }[]>`
      SELECT date_trunc(${granularity}, minute, 'UTC') AS bucket,
             SUM(requests)::int AS requests, SUM(rate_limited)::int AS rate_limited
      FROM api_key_usage
      WHERE api_key_id = ${keyId} AND organization_id = ${organizationId} AND minute >= ${from} AND minute < ${to}
      GROUP BY 1 ORDER BY 1`;
    return rows.map((row) => ({ timestamp: row.bucket, requests: row.requests, rate_limited: row.rate_limited }));
  }
}

/**
 * One row per key and minute, one last use per key: a statement may not touch a row twice
 * (batches of several buckets or drains can name the same key and minute).
 */
function merge(batches: UsageBatch[]): Pick<UsageBatch, 'counts' | 'lastUsed'> {
  const counts = new Map<string, UsageCount>();
  const lastUsed = new Map<string, number>();
  for (const batch of batches) {
    for (const count of batch.counts) {
      const id = `${count.keyId}|${count.minuteMs}`;
      const sum = counts.get(id) ?? { ...count, requests: 0, rateLimited: 0 };
      sum.requests += count.requests;
      sum.rateLimited += count.rateLimited;
      counts.set(id, sum);
    }
    for (const use of batch.lastUsed) lastUsed.set(use.keyId, Math.max(use.atMs, lastUsed.get(use.keyId) ?? 0));
  }
  return { counts: [...counts.values()], lastUsed: [...lastUsed].map(([keyId, atMs]) => ({ keyId, atMs })) };
}
