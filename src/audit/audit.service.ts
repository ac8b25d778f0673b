import { Injectable } from '@nestjs/common';
import type { Prisma } from '../generated/prisma/client';
import type { Actor } from '../auth/principal';
import { newId } from '../database/ids';
import { enqueueWebhookDeliveries } from '../webhooks/webhook-outbox';

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
  | 'dataset.deleted'
  | 'webhook.created'
  | 'webhook.deleted'
  | 'webhook.secret_rotated'
  | 'webhook.disabled'
  | 'webhook.enabled';

export interface AuditEventInput {
  organizationId: string;
  type: AuditEventType | (string & {});
  actor: Actor;
  target: { type: string; id: string };
  data?: Prisma.InputJsonObject;
}

/**
 * Appends audit events. Always inside the transaction of the change it records, so an event
 * exists exactly when the change does; there is deliberately no update or delete. The event's
 * webhook deliveries (the outbox) are written here too, so every audited change that endpoints
 * subscribe to reaches them with no call of its own.
 */
@Injectable()
export class AuditService {
  async record(tx: Prisma.TransactionClient, event: AuditEventInput): Promise<void> {
    const created = await tx.auditEvent.create({
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
    await enqueueWebhookDeliveries(tx, created);
  }
}
