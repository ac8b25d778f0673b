import { Client } from 'pg';
import type { LocalCluster } from '../../bench/src/local-cluster';
import { takeValidatedTotal } from './validated-total';

/** Reports how many responses were checked against the OpenAPI document; drops the throwaway database. */
export default async function globalTeardown(): Promise<void> {
  const validated = takeValidatedTotal();
  if (validated !== undefined) process.stdout.write(`\nOpenAPI: ${validated} responses validated against the document.\n`);
  await dropTestDatabase();
  await (globalThis as { lvTestCluster?: LocalCluster }).lvTestCluster?.stop();
}

/** Drops the throwaway database the setup created. */
async function dropTestDatabase(): Promise<void> {
  const adminUrl = process.env.LV_E2E_ADMIN_DATABASE_URL;
  const name = process.env.LV_E2E_DATABASE_NAME;
  if (!adminUrl || !name) return;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
