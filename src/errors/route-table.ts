import FindMyWay, { HTTPVersion } from 'find-my-way';
import type { FastifyInstance } from 'fastify';

/**
 * The routes the server answers, kept for one question the router itself cannot answer: a path
 * that matched nothing for this method — does it exist for another one (405) or not at all (404)?
 */
export class RouteTable {
  private readonly router = FindMyWay<HTTPVersion.V1>({ ignoreTrailingSlash: true });
  private readonly methods = new Set<string>();

  /** Must be called before routes are registered (Fastify announces each one to `onRoute`). */
  attach(fastify: FastifyInstance): void {
    fastify.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        if (method === 'HEAD' || method === 'OPTIONS') continue;
        // Catch-all routes answer "not found" themselves; they must not make a path look known.
        if (route.url.includes('*')) continue;
        this.methods.add(method);
        this.router.on(method as 'GET', route.url, () => undefined);
      }
    });
  }

  /** Methods that the path is routed for, sorted; empty when the path is unknown. */
  allowedMethods(path: string): string[] {
    const pathOnly = path.split('?', 1)[0];
    return [...this.methods].filter((method) => this.router.find(method as 'GET', pathOnly) !== null).sort();
  }
}
