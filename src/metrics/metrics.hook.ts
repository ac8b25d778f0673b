import type { FastifyInstance } from 'fastify';
import { MetricsService } from './metrics.service';

/** Every response, unrouted ones and guard rejections included, counted by its route pattern. */
export function registerMetricsHook(fastify: FastifyInstance, metrics: MetricsService): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    // No context: a request answered before the onRequest hooks (Fastify's 404 for `OPTIONS *`).
    const route = request.context ? request.context.route : request.routeOptions.url;
    metrics.observeResponse(request.method, route ?? 'unrouted', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}
