/**
 * The audit events an endpoint may subscribe to. Each is recorded through AuditService.record,
 * which writes the outbox rows in the same transaction: no audited change without its webhook.
 */
export const WEBHOOK_EVENT_TYPES = [
  'api_key.created',
  'api_key.revoked',
  'api_key.rotated',
  'api_key.leaked',
  'api_key.usage_spike',
  'organization.tier_changed',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export function isWebhookEventType(type: string): type is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(type);
}
