import { randomBytes } from 'node:crypto';

/**
 * Resource ids: `<prefix>_` + 12 hex digits of creation time (ms) + 16 random hex digits. They
 * sort by creation, so lists page by id alone, and they are unguessable.
 */
export function newId(prefix: string): string {
  return `${prefix}_${Date.now().toString(16).padStart(12, '0')}${randomBytes(8).toString('hex')}`;
}

export function idPattern(prefix: string): RegExp {
  return new RegExp(`^${prefix}_[0-9a-f]{28}$`);
}
