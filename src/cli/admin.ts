import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load-config';
import { DataDirError } from '../database/data-dir-error';
import { AppError } from '../errors/app-error';
import { Parsed, USAGE, UsageError, parseCommand } from './admin-commands';
import { AdminModule } from './admin.module';

/** Commands whose effect running servers must see at once (CONTRACT §6, §7), through the shared store. */
const REACHES_RUNNING_SERVERS = new Set(['org set-tier', 'key revoke']);

/**
 * `npm run -s admin -- <command> [--json]` (CONTRACT §8): against DATABASE_URL (and REDIS_URL,
 * so running instances see tier changes and revocations at once), or the embedded database
 * while the server is stopped. Exit 0 on success, 1 on a failed command, 2 on bad usage.
 */
async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        name: { type: 'string' },
        tier: { type: 'string' },
        'stytch-org-id': { type: 'string' },
        org: { type: 'string' },
        environment: { type: 'string' },
      },
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }

  let app;
  try {
    const command = parseCommand(parsed as Parsed);
    const config = { ...loadConfig(process.env), logLevel: 'silent' as const };
    // abortOnError: false — a start-up failure (DATA_DIR in use) reaches `describe` instead of a silent exit.
    app = await NestFactory.createApplicationContext(AdminModule.register(config), { logger: false, abortOnError: false });
    const result = await command(app);
    process.stdout.write(parsed.values.json ? `${JSON.stringify(result)}\n` : `${JSON.stringify(result, null, 2)}\n`);
    if (config.databaseUrl && !config.redisUrl && REACHES_RUNNING_SERVERS.has(parsed.positionals.slice(0, 2).join(' '))) {
      // Running servers hold tiers and revocations in Redis (or in their own memory): without it they cannot hear of this.
      process.stderr.write(
        'warning: REDIS_URL is not set, so running servers will not see this change until they restart ' +
          '(or their cached state expires, up to 24 h). Run it again with the servers\' REDIS_URL.\n',
      );
    }
    return 0;
  } catch (error) {
    process.stderr.write(`error: ${describe(error)}\n`);
    return error instanceof UsageError ? 2 : 1;
  } finally {
    await app?.close().catch(() => undefined);
  }
}

function describe(error: unknown): string {
  if (error instanceof ConfigError || error instanceof UsageError || error instanceof AppError || error instanceof DataDirError) {
    return error.message;
  }
  const message = (error as Error)?.message ?? String(error);
  if (/lock|already in use|EBUSY/i.test(message)) {
    return 'the embedded database is in use; stop the server first, or set DATABASE_URL.';
  }
  return process.env.DEBUG ? (error as Error).stack ?? message : message;
}

void main().then((code) => process.exit(code));
