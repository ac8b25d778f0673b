import { DynamicModule, Global, Module } from '@nestjs/common';
import pino from 'pino';
import type { AppConfig } from '../config/app-config';
import { RequestLog } from './request-log';

/**
 * `RequestLog`, one line per request (Nest's own lines go through `PinoNestLogger`, given to Nest
 * in app.factory.ts). A line written while handling a request names its `request_id` itself
 * (passed, not looked up: see request-context.ts). No per-request middleware or child logger
 * (pino-http cost ~20 µs of every request for the same lines: bench/PROFILE.md).
 */
@Global()
@Module({})
export class LoggingModule {
  static register(config: AppConfig): DynamicModule {
    const logger = pino({ level: config.logLevel });
    return {
      module: LoggingModule,
      providers: [{ provide: RequestLog, useValue: new RequestLog(logger) }],
      exports: [RequestLog],
    };
  }
}
