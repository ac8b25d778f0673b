import 'reflect-metadata';
import { createApp } from './app.factory';
import { ConfigError, loadConfig } from './config/load-config';
import { announceFirstStart } from './organizations/first-start';

const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const app = await createApp(config);
  // SIGTERM/SIGINT: stop accepting, finish in-flight requests, close PostgreSQL and Redis —
  // within SHUTDOWN_GRACE_MS, after which the process exits regardless.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS).unref());
  }
  await app.listen(config.port, '0.0.0.0');
  await announceFirstStart(app, config);
}

void main();
