import { Injectable } from '@nestjs/common';
import type { Prisma } from '../generated/prisma/client';
import type { Actor } from '../auth/principal';
import { newId } from '../database/ids';

export type AuditEventType =
  | 'api_key.created'
  | 'api_key.revoked'
  | 'api_key.rotated'
  | 'api_key.leaked'
  | 'api_key.usage_spike'
  | 'organization.created'
  | 'organization.tier_changed'
  | 'organization.leak_response_changed'
  | 'dataset.created'
  | 'dataset.deleted';

export interface AuditEventInput {
  organizationId: string;
  type: AuditEventType | (string & {});
  actor: Actor;
  target: { type: string; id: string };
  data?: Prisma.InputJsonObject;
}

/**
 * Appends audit events. Always inside the transaction of the change it records, so an event
 * exists exactly when the change does; there is deliberately no update or delete.
 */
@Injectable()
export class AuditService {
  async record(tx: Prisma.TransactionClient, event: AuditEventInput): Promise<void> {
    await tx.auditEvent.create({
      data: {
        id: newId('evt'),
        organizationId: event.organizationId,
        type: event.type,
        actorType: event.actor.type,
        actorId: event.actor.id,
        targetType: event.target.type,
        targetId: event.target.id,
        requestId: event.actor.requestId ?? null,
        data: event.data ?? {},
      },
    });
  }
}
