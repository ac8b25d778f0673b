import type { LoggerService, LogLevel } from '@nestjs/common';
import type { Level, Logger } from 'pino';

const LEVELS: Record<LogLevel, Level> = { log: 'info', error: 'error', warn: 'warn', debug: 'debug', verbose: 'trace', fatal: 'fatal' };

/**
 * Nest's own log calls through the application's pino logger, one JSON line each, in the shape
 * the rest of the service writes: `logger.warn({ request_id }, 'text')` keeps its fields, the
 * class that logged is `context`, an Error becomes `error` (type and message, never the stack). (nestjs-pino did this before; its
 * releases for Nest 12 require Node 22, and this is all of it the service used.)
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(nestLevel: LogLevel, message: unknown, rest: unknown[]): void {
    const level = LEVELS[nestLevel];
    if (!this.logger.isLevelEnabled(level)) return;
    // Nest's Logger appends its context (the class name) as the last argument.
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    if (message instanceof Error) {
      // Its type and message only: no stack in a log line (start-up failures land here).
      this.logger[level]({ context, error: { type: message.name, message: message.message } }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      const [text] = rest;
      this.logger[level]({ context, ...message }, typeof text === 'string' ? text : '');
    } else {
      // Nest's own `error(message, stack, context)`: the stack is dropped, as the service logs no stacks.
      this.logger[level]({ context }, String(message));
    }
  }
}
