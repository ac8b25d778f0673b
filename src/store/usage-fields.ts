import type { UsageBatch, UsageCount } from './admission-store';

/**
 * Pending usage is one hash: `<key id>|<minute ms>|r` (accepted), `…|l` (rate limited) and
 * `<key id>|u` (last use, unix ms). Key ids never contain `|`.
 */
export function usageField(keyId: string, minuteMs: number, kind: 'r' | 'l'): string {
  return `${keyId}|${minuteMs}|${kind}`;
}

export function lastUsedField(keyId: string): string {
  return `${keyId}|u`;
}

export function parseUsage(id: string, fields: Record<string, string>): UsageBatch {
  const counts = new Map<string, UsageCount>();
  const lastUsed: UsageBatch['lastUsed'] = [];
  for (const [field, value] of Object.entries(fields)) {
    const [keyId, second, kind] = field.split('|');
    if (second === 'u') {
      lastUsed.push({ keyId, atMs: Number(value) });
      continue;
    }
    const id = `${keyId}|${second}`;
    const count = counts.get(id) ?? { keyId, minuteMs: Number(second), requests: 0, rateLimited: 0 };
    if (kind === 'r') count.requests += Number(value);
    else count.rateLimited += Number(value);
    counts.set(id, count);
  }
  return { id, counts: [...counts.values()], lastUsed };
}
