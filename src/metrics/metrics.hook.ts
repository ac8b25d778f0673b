import type { FastifyInstance } from 'fastify';
import { MetricsService } from './metrics.service';

/** Every response, unrouted ones and guard rejections included, counted by its route pattern. */
export function registerMetricsHook(fastify: FastifyInstance, metrics: MetricsService): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.observeResponse(request.method, request.routeOptions.url ?? 'unrouted', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}
