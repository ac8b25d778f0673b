import type { AuditEvent, Prisma } from '../generated/prisma/client';
import { newId } from '../database/ids';
import { isWebhookEventType } from './webhook-event-types';

/**
 * The body every endpoint receives for an event: `{type, timestamp, data}`. `data` is what the
 * audit trail shows for it (ids and names, never a secret), with the organization, the object
 * it is about and who acted.
 */
export function webhookPayload(event: AuditEvent): string {
  const extra = (event.data ?? {}) as Prisma.JsonObject;
  return JSON.stringify({
    type: event.type,
    timestamp: event.createdAt.toISOString(),
    data: {
      organization_id: event.organizationId,
      object: { type: event.targetType, id: event.targetId },
      actor: { type: event.actorType, id: event.actorId },
      ...extra,
    },
  });
}

/**
 * Writes the outbox rows of an audited change, inside its transaction: one delivery per enabled
 * endpoint of the organization subscribed to the type. They commit, or roll back, with the change.
 */
export async function enqueueWebhookDeliveries(tx: Prisma.TransactionClient, event: AuditEvent): Promise<void> {
  if (!isWebhookEventType(event.type)) return;
  const endpoints = await tx.webhookEndpoint.findMany({
    where: { organizationId: event.organizationId, enabled: true, eventTypes: { has: event.type } },
    select: { id: true },
  });
  if (endpoints.length === 0) return;
  const payload = webhookPayload(event);
  await tx.webhookDelivery.createMany({
    data: endpoints.map((endpoint) => ({
      id: newId('whd'),
      organizationId: event.organizationId,
      endpointId: endpoint.id,
      eventId: event.id,
      eventType: event.type,
      payload,
    })),
  });
}
