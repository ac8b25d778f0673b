import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Logger } from 'pino';
import { loggableUrl } from './redact';
import { callerRequestId } from './request-id';

/**
 * One line per request, at `info`: method, path (credentials pasted into it redacted; at most
 * 2,048 characters), status, the error code if it was refused, and time taken — never headers,
 * never bodies. Written from Fastify's `onResponse`, so refusals before any route (401, 404, a
 * malformed body) are logged like every other answer; and from `onRequestAbort` for a write whose
 * caller hung up first (it may still have committed, under that request id). Reads that are
 * abandoned are not logged: they change nothing, and the hook costs every request of its route a
 * listener — on GET /v1/organization it tripled the time spent in GC (bench, under the profiler).
 */
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export class RequestLog {
  constructor(private readonly logger: Logger) {}

  register(fastify: FastifyInstance): void {
    fastify.addHook('onResponse', (request, reply, done) => {
      if (!request.raw.aborted) this.write(request, reply);
      done();
    });
    const onAbort = (request: FastifyRequest, done: () => void) => {
      this.writeAborted(request);
      done();
    };
    fastify.addHook('onRoute', (route) => {
      if (![route.method].flat().some((method) => WRITES.has(method))) return;
      route.onRequestAbort = [...[route.onRequestAbort ?? []].flat(), onAbort] as RouteOptions['onRequestAbort'];
    });
  }

  write(request: FastifyRequest, reply: FastifyReply): void {
    if (!this.logger.isLevelEnabled('info')) return;
    const { req, line } = describe(request);
    const res = { status: reply.statusCode, error_code: request.context?.errorCode };
    this.logger.info({ request_id: request.id, req, res, responseTime: Math.round(reply.elapsedTime) }, `${line} ${reply.statusCode}`);
  }

  writeAborted(request: FastifyRequest): void {
    if (!this.logger.isLevelEnabled('info')) return;
    const { req, line } = describe(request);
    this.logger.info({ request_id: request.id, req, aborted: true }, `${line} aborted by the client`);
  }
}

/** The request as its log line shows it: method, path with credentials redacted and cut to size, the caller's own id. */
function describe(request: FastifyRequest): { req: Record<string, string | undefined>; line: string } {
  const url = loggableUrl(request.url);
  return {
    req: { method: request.method, url, caller_request_id: callerRequestId(request.headers['x-request-id']) },
    line: `${request.method} ${url}`,
  };
}
