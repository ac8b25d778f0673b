import type { FastifyInstance } from 'fastify';
import helmet, { HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * JSON answers get the few headers that matter for an API (OWASP REST Security cheat sheet):
 * nothing may frame, sniff, embed or load anything from them, and no cache may keep them —
 * CONTRACT §4 asks `Cache-Control: no-store` of every /v1 response. The browser-only rest of
 * helmet's set (script CSP, X-XSS-Protection, X-Download-Options, …) would only cost clients
 * parsing time on every answer.
 */
const API_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: { useDefaults: false, directives: { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"] } },
  crossOriginOpenerPolicy: false,
  crossOriginResourcePolicy: { policy: 'same-site' },
  originAgentCluster: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xFrameOptions: { action: 'deny' },
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
};

/** The Swagger UI at /docs is a page: helmet's full set, with a CSP that lets it load its own scripts and styles. */
const DOCS_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      'default-src': ["'self'"],
      'script-src': ["'self'"],
      'style-src': ["'self'", "'unsafe-inline'"],
      'img-src': ["'self'", 'data:'],
      'frame-ancestors': ["'none'"],
      'base-uri': ["'none'"],
      'form-action': ["'none'"],
    },
  },
  crossOriginResourcePolicy: { policy: 'same-site' },
  xFrameOptions: { action: 'deny' },
};

/**
 * helmet's headers depend on its options only (no nonces, nothing read from the request), so
 * helmet computes them once, here, and every response gets a copy. @fastify/helmet would run
 * helmet's middleware chain per request: ~10 µs of the admission path's budget (bench/PROFILE.md).
 */
export function securityHeaders(options: Readonly<HelmetOptions>): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
      return recorder;
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let outcome: { error?: unknown } | undefined;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    outcome = { error };
  });
  // helmet's chain is synchronous; anything else would mean headers computed per request after all.
  if (!outcome) throw new Error('helmet did not finish synchronously');
  if (outcome.error) throw outcome.error;
  return Object.freeze(headers);
}

/** Every answer but the docs' pages: /v1, health, metrics, 404s, and the refusals made outside Fastify. */
export const API_HEADERS: Readonly<Record<string, string>> = Object.freeze({ ...securityHeaders(API_OPTIONS), 'cache-control': 'no-store' });
export const DOCS_HEADERS: Readonly<Record<string, string>> = securityHeaders(DOCS_OPTIONS);

export function registerSecurityHeaders(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.headers(isDocs(request.routeOptions.url) ? DOCS_HEADERS : API_HEADERS);
    done();
  });
}

function isDocs(route: string | undefined): boolean {
  return route !== undefined && (route === '/docs' || route.startsWith('/docs/'));
}
