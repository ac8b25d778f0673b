import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ConfigError, loadConfig } from '../config/load-config';
import { environment } from '../config/env-file';
import { DataDirError } from '../database/data-dir-error';
import { AppError, FieldError } from '../errors/app-error';
import { isUnavailable } from '../errors/to-app-error';
import { parseInvocation } from './admin-commands';
import { UsageError } from './command-spec';
import { AdminModule } from './admin.module';

/** Commands whose effect running servers must see at once (CONTRACT §6, §7), through the shared store. */
const REACHES_RUNNING_SERVERS = new Set(['org set-tier', 'org set-leak-response', 'key revoke', 'key set-limit']);

// stdout carries the result and nothing else: whatever a library prints goes to stderr.
const writeResult = process.stdout.write.bind(process.stdout);
process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;

/**
 * `npm run -s admin -- <command> [--json]` (CONTRACT §8): against DATABASE_URL (and REDIS_URL,
 * so running instances see tier changes and revocations at once), or the embedded database
 * while the server is stopped. Exit 0 on success, 1 on a failed command, 2 on bad usage or input.
 */
async function main(argv: string[]): Promise<number> {
  // Run through npm (`npm run -s admin --`) or as the installed bin: help shows the form used.
  const prog = process.env.npm_lifecycle_event === 'admin' ? 'npm run -s admin --' : 'lucitra-admin';
  const json = argv.slice(0, argv.indexOf('--') < 0 ? undefined : argv.indexOf('--')).includes('--json');
  let app;
  try {
    const invocation = await parseInvocation(argv, prog);
    if (invocation.kind === 'help') {
      writeResult(`${invocation.text}\n`);
      return 0;
    }
    const config = { ...loadConfig(environment()), logLevel: 'silent' as const };
    // abortOnError: false — a start-up failure (DATA_DIR in use) reaches `toFailure` instead of a silent exit.
    app = await NestFactory.createApplicationContext(AdminModule.register(config), { logger: false, abortOnError: false });
    const result = await invocation.run(app);
    writeResult(json ? `${JSON.stringify(result)}\n` : `${JSON.stringify(result, null, 2)}\n`);
    if (config.databaseUrl && !config.redisUrl && !config.redisCluster && REACHES_RUNNING_SERVERS.has(invocation.name)) {
      // Running servers hold tiers and revocations in Redis (or in their own memory): without it they cannot hear of this.
      process.stderr.write(
        'warning: neither REDIS_URL nor REDIS_CLUSTER_NODES is set, so running servers will not see this change until they restart ' +
          '(or their cached state expires, up to 24 h). Run it again with the servers\' REDIS_URL (or REDIS_CLUSTER_NODES).\n',
      );
    }
    return 0;
  } catch (error) {
    const failure = toFailure(error);
    process.stderr.write(json ? `${JSON.stringify({ error: failure.error })}\n` : humanReadable(failure));
    return failure.exitCode;
  } finally {
    await app?.close().catch(() => undefined);
  }
}

interface Failure {
  error: { code: string; message: string; details?: FieldError[] };
  usage?: string;
  exitCode: number;
}

function toFailure(error: unknown): Failure {
  if (error instanceof UsageError) return { error: { code: 'INVALID_USAGE', message: error.message }, usage: error.usage, exitCode: 2 };
  if (error instanceof AppError) {
    const details = error.extra.details;
    return { error: { code: error.code, message: error.message, ...(details ? { details } : {}) }, exitCode: error.code === 'VALIDATION_FAILED' ? 2 : 1 };
  }
  const code =
    error instanceof ConfigError
      ? 'INVALID_CONFIGURATION'
      : error instanceof DataDirError
        ? 'DATA_DIR_UNAVAILABLE'
        : isUnavailable(error)
          ? 'SERVICE_UNAVAILABLE'
          : 'INTERNAL_ERROR';
  return { error: { code, message: describe(error) }, exitCode: 1 };
}

function describe(error: unknown): string {
  if (error instanceof ConfigError || error instanceof UsageError || error instanceof AppError || error instanceof DataDirError) {
    return error.message;
  }
  const message = (error as Error)?.message ?? String(error);
  if (/lock|already in use|EBUSY/i.test(message)) {
    return 'the embedded database is in use; stop the server first, or set DATABASE_URL.';
  }
  if (process.env.DEBUG) return (error as Error).stack ?? message;
  // Prisma's messages open with a code frame (which may quote the query's arguments): the last line is the reason.
  return (error as Error)?.name?.startsWith('PrismaClient') ? message.trim().split('\n').pop()! : message;
}

/** `error: …`, one line per invalid field, then the usage when it helps; control characters shown escaped. */
function humanReadable({ error, usage }: Failure): string {
  const lines = [`error: ${error.message}`, ...(error.details ?? []).map((detail) => `  - ${detail.message}`)];
  return `${lines.map(escapeControls).join('\n')}\n${usage ? `\n${usage}\n` : ''}`;
}

/** Input echoed in a message must not drive the operator's terminal (ESC sequences, CR). */
function escapeControls(text: string): string {
  return text.replace(/\p{Cc}/gu, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

void main(process.argv.slice(2)).then((code) => process.exit(code));
