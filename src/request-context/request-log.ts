import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { callerRequestId } from './request-id';

/**
 * One line per answered request, at `info`: method, path (an API key pasted into it redacted),
 * status, the error code if it was refused, and time taken — never headers, never bodies. Written from Fastify's `onResponse`, so
 * refusals before any route (401, 404, a malformed body) are logged like every other answer.
 */
export class RequestLog {
  constructor(private readonly logger: Logger) {}

  register(fastify: FastifyInstance): void {
    fastify.addHook('onResponse', (request, reply, done) => {
      this.write(request, reply);
      done();
    });
  }

  write(request: FastifyRequest, reply: FastifyReply): void {
    if (!this.logger.isLevelEnabled('info')) return;
    const url = redactKeys(request.url);
    this.logger.info(
      {
        request_id: request.id,
        req: { method: request.method, url, caller_request_id: callerRequestId(request.headers['x-request-id']) },
        res: { status: reply.statusCode, error_code: request.context?.errorCode },
        responseTime: Math.round(reply.elapsedTime),
      },
      `${request.method} ${url} ${reply.statusCode}`,
    );
  }
}

/** A key pasted into a URL (`?api_key=luci_…`) must not reach the log with it. */
function redactKeys(url: string): string {
  return url.includes('luci_') ? url.replace(/luci_[A-Za-z0-9]+/g, 'luci_[REDACTED]') : url;
}
