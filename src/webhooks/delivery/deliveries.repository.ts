import { Injectable } from '@nestjs/common';
import type { Prisma } from '../../generated/prisma/client';
import { PrismaService } from '../../database/prisma.service';
import { newId } from '../../database/ids';
import type { SendResult } from './webhook-sender';

/** A delivery claimed for one attempt, with what is needed to sign and send it. */
export interface ClaimedDelivery {
  id: string;
  organizationId: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  payload: string;
  /** This attempt's number, and the fence its result is written under. */
  attempts: number;
  url: string;
  secretCiphertext: string;
  previousSecretCiphertext: string | null;
  previousSecretLive: boolean | null;
}

/** The outbox's queue operations. All times are the database's clock, shared by every instance. */
@Injectable()
export class DeliveriesRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Claims up to `limit` due deliveries of enabled endpoints. `SKIP LOCKED`: instances claiming
   * at once take different rows. The claim itself is the lease — `next_attempt_at` moves `leaseMs`
   * ahead — so a delivery whose instance died becomes due again when the lease runs out.
   */
  claim(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    return this.prisma.$queryRaw<ClaimedDelivery[]>`
      WITH due AS (
        SELECT c.id FROM webhook_deliveries c JOIN webhook_endpoints ce ON ce.id = c.endpoint_id
        WHERE c.status = 'pending' AND c.next_attempt_at <= now() AND ce.enabled
        ORDER BY c.next_attempt_at
        LIMIT ${limit}::int
        FOR UPDATE OF c SKIP LOCKED
      )
      UPDATE webhook_deliveries d
      SET attempts = d.attempts + 1, next_attempt_at = now() + ${leaseMs}::int * interval '1 millisecond'
      FROM due, webhook_endpoints e
      WHERE d.id = due.id AND e.id = d.endpoint_id
      RETURNING d.id, d.organization_id AS "organizationId", d.endpoint_id AS "endpointId", d.event_id AS "eventId",
        d.event_type AS "eventType", d.payload, d.attempts, e.url, e.secret_ciphertext AS "secretCiphertext",
        e.previous_secret_ciphertext AS "previousSecretCiphertext", e.previous_secret_expires_at > now() AS "previousSecretLive"`;
  }

  /** Whether this attempt still held the delivery (no newer claim, not cancelled): only then is it final. */
  async markDelivered(tx: Prisma.TransactionClient, delivery: ClaimedDelivery): Promise<boolean> {
    const { count } = await tx.webhookDelivery.updateMany({
      where: { id: delivery.id, attempts: delivery.attempts, status: 'pending' },
      data: { status: 'delivered', finishedAt: new Date() },
    });
    return count > 0;
  }

  /**
   * Schedules the retry `delayMs` ahead, but not past the delivery's deadline (its event's time
   * + `maxAgeMs`): the last attempt is made at the deadline, and one failing then gives up.
   * Returns 'failed' (given up), 'pending', or null when another claim holds the delivery now.
   */
  async markFailed(tx: Prisma.TransactionClient, delivery: ClaimedDelivery, delayMs: number, maxAgeMs: number): Promise<string | null> {
    const rows = await tx.$queryRaw<{ status: string }[]>`
      UPDATE webhook_deliveries
      SET status = CASE WHEN created_at + ${maxAgeMs}::bigint * interval '1 millisecond' <= now() THEN 'failed' ELSE 'pending' END,
        finished_at = CASE WHEN created_at + ${maxAgeMs}::bigint * interval '1 millisecond' <= now() THEN now() END,
        next_attempt_at = LEAST(now() + ${delayMs}::bigint * interval '1 millisecond', created_at + ${maxAgeMs}::bigint * interval '1 millisecond')
      WHERE id = ${delivery.id} AND attempts = ${delivery.attempts}::int AND status = 'pending'
      RETURNING status`;
    return rows[0]?.status ?? null;
  }

  async recordAttempt(tx: Prisma.TransactionClient, delivery: ClaimedDelivery, attemptedAt: Date, result: SendResult, final: boolean): Promise<void> {
    await tx.webhookAttempt.create({
      data: {
        id: newId('wha'),
        organizationId: delivery.organizationId,
        endpointId: delivery.endpointId,
        deliveryId: delivery.id,
        eventId: delivery.eventId,
        eventType: delivery.eventType,
        attempt: delivery.attempts,
        attemptedAt,
        durationMs: result.durationMs,
        statusCode: result.statusCode,
        failure: result.failure,
        succeeded: result.failure === null,
        final,
      },
    });
  }

  async resetFailures(tx: Prisma.TransactionClient, endpointId: string): Promise<void> {
    await tx.webhookEndpoint.updateMany({ where: { id: endpointId, consecutiveFailures: { gt: 0 } }, data: { consecutiveFailures: 0 } });
  }

  /** One more delivery given up; the row stays locked until the transaction ends, so instances count in turn. */
  async countGivenUp(tx: Prisma.TransactionClient, endpointId: string): Promise<{ consecutiveFailures: number; enabled: boolean } | null> {
    const rows = await tx.$queryRaw<{ consecutiveFailures: number; enabled: boolean }[]>`
      UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1 WHERE id = ${endpointId}
      RETURNING consecutive_failures AS "consecutiveFailures", enabled`;
    return rows[0] ?? null;
  }

  /** Disables the endpoint and gives up what it still had to receive. */
  async disable(tx: Prisma.TransactionClient, endpointId: string): Promise<void> {
    const now = new Date();
    await tx.webhookEndpoint.update({ where: { id: endpointId }, data: { enabled: false, disabledAt: now } });
    await tx.webhookDelivery.updateMany({ where: { endpointId, status: 'pending' }, data: { status: 'failed', finishedAt: now } });
  }

  /** Deletes deliveries finished more than `days` ago; their attempts go with them. */
  async pruneFinished(days: number): Promise<void> {
    await this.prisma.$executeRaw`
      DELETE FROM webhook_deliveries WHERE status <> 'pending' AND finished_at < now() - ${days}::int * interval '1 day'`;
  }

  async hasEnabledEndpoints(): Promise<boolean> {
    return (await this.prisma.webhookEndpoint.findFirst({ where: { enabled: true }, select: { id: true } })) !== null;
  }

  transaction<T>(fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(fn);
  }
}
