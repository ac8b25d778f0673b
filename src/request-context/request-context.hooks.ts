import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RequestContext, RequestContexts } from './request-context';

declare module 'fastify' {
  interface FastifyRequest {
    context: RequestContext;
  }
}

/**
 * Registers the hooks that give every request its id header and its context. `onRequest` runs
 * for every request Fastify receives — unknown routes and body-parse failures included — so the
 * header set there is on every response. The context is entered again in `preHandler` because
 * body parsing continues from socket events, outside the context entered at `onRequest`.
 */
export function registerRequestContextHooks(fastify: FastifyInstance): void {
  fastify.decorateRequest('context', null as unknown as RequestContext);
  fastify.addHook('onRequest', (request, reply, done) => {
    request.context = { requestId: request.id };
    reply.header('x-request-id', request.id);
    RequestContexts.run(request.context, done);
  });
  fastify.addHook('preHandler', (request: FastifyRequest, _reply, done) => {
    RequestContexts.run(request.context, done);
  });
}
