import { Client } from 'pg';

/** Drops the throwaway database the setup created. */
export default async function globalTeardown(): Promise<void> {
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
