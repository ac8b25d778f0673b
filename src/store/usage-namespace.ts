import { hash } from 'node:crypto';
import path from 'node:path';
import type { AppConfig } from '../config/app-config';

/**
 * Names the database that usage is flushed to, for the store's usage keys: deployments sharing
 * one Redis keep their counts apart (another's flush would drop keys its database does not know),
 * while the instances of one deployment — one database — share theirs. Host, port and database
 * only, never the credentials; hashed to keep key names short.
 */
export function usageNamespace(config: Pick<AppConfig, 'databaseUrl' | 'dataDir'>): string {
  const target = config.databaseUrl ? postgresTarget(config.databaseUrl) : `pglite:${path.resolve(config.dataDir)}`;
  return hash('sha256', target, 'hex').slice(0, 16);
}

function postgresTarget(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `postgresql://${url.hostname}:${url.port || '5432'}/${decodeURIComponent(url.pathname.slice(1))}`;
}
