import type { FastifyInstance } from 'fastify';
import type { RequestContext } from './request-context';

declare module 'fastify' {
  interface FastifyRequest {
    context: RequestContext;
  }
}

/**
 * Gives every request its id header and its context. `onRequest` runs for every request Fastify
 * receives — unknown routes and body-parse failures included — so the header is on every response.
 */
export function registerRequestContextHooks(fastify: FastifyInstance): void {
  fastify.decorateRequest('context', null as unknown as RequestContext);
  fastify.addHook('onRequest', (request, reply, done) => {
    request.context = { requestId: request.id, route: request.routeOptions.url };
    reply.header('x-request-id', request.id);
    done();
  });
}
