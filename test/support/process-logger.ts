import path from 'node:path';

/**
 * nestjs-pino (5.x) builds one pino-http instance per process — the first application to start
 * makes it, and every later one logs through it, with the first one's level. A test that needs
 * an application's own LOG_LEVEL resets it before starting that application (and after closing
 * it, so the next one gets its own again). Reached by file path: the package does not export it.
 */
export function resetProcessLogger(): void {
  const entry = require.resolve('nestjs-pino');
  const pinoLogger = require(path.join(path.dirname(entry), 'PinoLogger.js')) as { __resetOutOfContextForTests(): void };
  pinoLogger.__resetOutOfContextForTests();
}
