import type { INestApplication } from '@nestjs/common';
import { ApiKeysService } from '../api-keys/api-keys.service';
import type { AppConfig } from '../config/app-config';
import { OrganizationsService } from './organizations.service';

/**
 * The first start on the embedded database creates an organization and one key, and prints the
 * key once with a line to try it (CONTRACT §1). Later starts find the organization and print nothing.
 * Written to stdout, not the log: the secret must never reach a log line.
 */
export async function announceFirstStart(app: INestApplication, config: AppConfig): Promise<void> {
  if (config.databaseUrl) return;
  const organizations = app.get(OrganizationsService);
  if ((await organizations.list()).length > 0) return;
  const system = { type: 'system' as const, id: 'first-start' };
  const organization = await organizations.create({ name: 'My organization' }, system);
  const key = await app.get(ApiKeysService).issue({ organizationId: organization.id, name: 'First key' }, system);
  process.stdout.write(
    [
      '',
      `Created organization ${organization.id} and its first API key. It is shown only this once:`,
      '',
      `  ${key.key}`,
      '',
      'Try it:',
      `  curl -i http://localhost:${config.port}/v1/organization -H "Authorization: Bearer ${key.key}"`,
      '',
    ].join('\n') + '\n',
  );
}
