import { DynamicModule, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppConfig } from '../config/app-config';
import { callerRequestId } from './request-id';

/**
 * pino through nestjs-pino: one line per request at `info`, and every line written during a
 * request carries its `request_id` (nestjs-pino binds the request's logger). Never headers, never bodies.
 */
export function loggerModule(config: AppConfig): DynamicModule {
  return LoggerModule.forRoot({
    forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
    pinoHttp: {
      level: config.logLevel,
      quietReqLogger: true,
      customAttributeKeys: { reqId: 'request_id' },
      serializers: {
        req: (req: IncomingMessage & { id?: string; raw?: IncomingMessage }) => ({
          method: req.method,
          url: redactKeys(req.url),
          caller_request_id: callerRequestId((req.raw ?? req).headers?.['x-request-id']),
        }),
        res: (res: ServerResponse) => ({ status: res.statusCode }),
      },
      customSuccessMessage: (req, res) => `${req.method} ${redactKeys(req.url)} ${res.statusCode}`,
      customErrorMessage: (req, res) => `${req.method} ${redactKeys(req.url)} ${res.statusCode}`,
    },
  });
}

/** A key pasted into a URL (`?api_key=luci_…`) must not reach the log with it. */
function redactKeys(url: string | undefined): string | undefined {
  return url?.replace(/luci_[A-Za-z0-9]+/g, 'luci_[REDACTED]');
}
