import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createApp } from './app.factory';
import { environment } from './config/env-file';
import { ConfigError, loadConfig } from './config/load-config';
import { announceFirstStart } from './organizations/first-start';

const SHUTDOWN_GRACE_MS = 10_000;
/** After a signal, keep serving this long (every response with `Connection: close`) before closing. */
const DRAIN_MS = 1_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(environment());
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const app = await createApp(config);
  drainOnSignal(app);
  await app.listen(config.port, '0.0.0.0');
  await announceFirstStart(app, config);
}

/**
 * SIGTERM/SIGINT: drain first — for DRAIN_MS every response says `Connection: close`, so clients
 * drop their kept-alive connections themselves instead of reusing one the server destroys as it
 * closes — then stop accepting, finish in-flight requests, close PostgreSQL and Redis, exit 0;
 * all within SHUTDOWN_GRACE_MS, after which the process exits 1 regardless.
 */
function drainOnSignal(app: NestFastifyApplication): void {
  let draining = false;
  (app.getHttpServer() as Server).prependListener('request', (_request: IncomingMessage, response: ServerResponse) => {
    if (draining) response.setHeader('Connection', 'close');
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS).unref();
      draining = true;
      setTimeout(() => {
        app.close().then(
          () => process.exit(0),
          (error: Error) => {
            process.stderr.write(`Shutdown failed: ${error.message}\n`);
            process.exit(1);
          },
        );
      }, DRAIN_MS);
    });
  }
}

main().catch((error: Error) => {
  process.stderr.write(`Start-up failed: ${error.message}\n`);
  process.exit(1);
});
