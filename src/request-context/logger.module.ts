import { DynamicModule, Global, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import type { AppConfig } from '../config/app-config';
import { RequestContexts } from './request-context';
import { RequestLog } from './request-log';

/**
 * pino through nestjs-pino: every line written during a request carries its `request_id` (a pino
 * `mixin` reads the request context), and `RequestLog` writes one line per answered request.
 * nestjs-pino's per-request middleware (pino-http: a child logger and a second async context per
 * request) is not mounted — it cost ~20 µs of every request (bench/PROFILE.md) for the same lines.
 */
@Global()
@Module({})
export class LoggingModule {
  static register(config: AppConfig): DynamicModule {
    const logger = pino({
      level: config.logLevel,
      mixin: () => {
        const requestId = RequestContexts.requestId();
        return requestId === undefined ? {} : { request_id: requestId };
      },
    });
    return {
      module: LoggingModule,
      imports: [LoggerModule.forRoot({ pinoHttp: { logger }, forRoutes: [] })],
      providers: [{ provide: RequestLog, useValue: new RequestLog(logger) }],
      exports: [RequestLog],
    };
  }
}
