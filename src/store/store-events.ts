import { idPattern } from '../database/ids';

/**
 * What instances tell each other through the store. An event is a hint to look again, never a
 * fact to act on: anyone who can reach the Redis server can publish, so a receiver reads what it
 * acts on from the store itself (see KeyRevocations).
 */
export type StoreEvent =
  | {
      type: 'key.revoked';
      keyId: string;
      /** The revoker's view, for logs; receivers read the key's revocation time from the store. */
      revokeAtMs?: number;
    }
  | {
      /** A setting of the organization changed: instances drop their cached record and read it again. */
      type: 'organization.changed';
      organizationId: string;
    };

/** Longer messages are dropped unread: no event comes near it, and parsing a huge one blocks the loop. */
export const MAX_EVENT_CHARS = 1024;

const KEY_ID = idPattern('key');
const ORGANIZATION_ID = idPattern('org');

/** One check per event type: a new type does not compile until it has one. */
const VALIDATORS: { [T in StoreEvent['type']]: (fields: Record<string, unknown>) => boolean } = {
  'key.revoked': (fields) =>
    typeof fields.keyId === 'string' && KEY_ID.test(fields.keyId) && (fields.revokeAtMs === undefined || Number.isSafeInteger(fields.revokeAtMs)),
  'organization.changed': (fields) => typeof fields.organizationId === 'string' && ORGANIZATION_ID.test(fields.organizationId),
};

/** The event in `message`, or why it is not one (for a log line; it never quotes the message). */
export function parseStoreEvent(message: string): { event: StoreEvent } | { problem: string } {
  if (message.length > MAX_EVENT_CHARS) return { problem: `longer than ${MAX_EVENT_CHARS} characters` };
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return { problem: 'not JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { problem: 'not a JSON object' };
  const fields = value as Record<string, unknown>;
  if (typeof fields.type !== 'string' || !Object.hasOwn(VALIDATORS, fields.type)) return { problem: 'unknown type' };
  if (!VALIDATORS[fields.type as StoreEvent['type']](fields)) return { problem: `malformed ${fields.type}` };
  return { event: fields as StoreEvent };
}

/** A short, printable excerpt of a message for a log line: control characters escaped, the rest cut. */
export function excerpt(message: string, chars = 40): string {
  const head = JSON.stringify(message.slice(0, chars));
  return message.length > chars ? `${head}… (${message.length} characters)` : head;
}
