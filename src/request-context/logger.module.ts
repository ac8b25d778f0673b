import { DynamicModule, Global, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import type { AppConfig } from '../config/app-config';
import { RequestLog } from './request-log';

/**
 * pino through nestjs-pino, and `RequestLog` writing one line per request. A line written while
 * handling a request names its `request_id` itself (passed, not looked up: see request-context.ts).
 * nestjs-pino's per-request middleware (pino-http: a child logger and a second async context per
 * request) is not mounted — it cost ~20 µs of every request (bench/PROFILE.md) for the same lines.
 */
@Global()
@Module({})
export class LoggingModule {
  static register(config: AppConfig): DynamicModule {
    const logger = pino({ level: config.logLevel });
    return {
      module: LoggingModule,
      imports: [LoggerModule.forRoot({ pinoHttp: { logger }, forRoutes: [] })],
      providers: [{ provide: RequestLog, useValue: new RequestLog(logger) }],
      exports: [RequestLog],
    };
  }
}
