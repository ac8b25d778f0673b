import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { AppError } from '../errors/app-error';
import { SecretBox } from './secret-box';

export const KEY_FILE = 'webhook-secrets.key';

/** The SecretBox when webhooks can run; otherwise why not, for the routes' 503. */
export class WebhookSecrets {
  constructor(readonly box: SecretBox | null) {}

  get available(): boolean {
    return this.box !== null;
  }

  require(): SecretBox {
    if (this.box) return this.box;
    throw new AppError(
      'SERVICE_UNAVAILABLE',
      'Webhooks are not enabled on this service: its operator has not set WEBHOOK_SECRETS_KEY, the key that protects signing secrets.',
    );
  }
}

/**
 * WEBHOOK_SECRETS_KEY when set. Otherwise, embedded mode keeps a key it generated beside its
 * database (DATA_DIR/webhook-secrets.key, 0600 in a 0700 folder): the database and the key are
 * equally private there, and the default run works with no set-up. An in-memory database gets an
 * in-memory key. PostgreSQL mode never invents one — each instance would make its own and none
 * could read another's secrets — so webhooks stay off until the operator sets it.
 */
export function resolveWebhookSecrets(options: { secretsKey?: Buffer; databaseUrl?: string; dataDir: string }): WebhookSecrets {
  if (options.secretsKey) return new WebhookSecrets(new SecretBox(options.secretsKey));
  if (options.databaseUrl) return new WebhookSecrets(null);
  if (options.dataDir === 'memory://') return new WebhookSecrets(new SecretBox(randomBytes(32)));
  return new WebhookSecrets(new SecretBox(keyInDataDir(options.dataDir)));
}

function keyInDataDir(dataDir: string): Buffer {
  const file = path.join(dataDir, KEY_FILE);
  try {
    // 'wx': never overwrite a key that exists — the secrets sealed under it would be lost.
    fs.writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) {
    throw new Error(`${file} does not hold a webhook secrets key (base64 of 32 bytes). Restore it from a backup, or set WEBHOOK_SECRETS_KEY.`);
  }
  return key;
}
