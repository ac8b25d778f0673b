import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors/app-error';
import { bodyShapeProblem } from './body-shape';

/**
 * The one parser of request bodies (JSON only). The text must first pass bodyShapeProblem, so a
 * body no request needs is refused without being parsed. Then Fastify's own parser, which refuses
 * a `__proto__` key anywhere and a `constructor` key holding `prototype` (copied onto another
 * object they would change its prototype) but calls them "not valid JSON", as it does a syntax
 * error: the refusal stays, and its message says why.
 *
 * Read as bytes (Fastify decodes a string body from the same bytes, at the same cost): the routes
 * in `keepRawBodyFor` — a signature covers exactly the bytes sent — also get them as `rawBody`.
 */
export function registerJsonBodyParser(fastify: FastifyInstance, keepRawBodyFor: readonly string[] = []): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (keepRawBodyFor.includes(request.routeOptions.url ?? '')) request.rawBody = bytes;
    const text = bytes.toString('utf8');
    const problem = bodyShapeProblem(text);
    if (problem) return done(problem, undefined);
    parse(request, text, (error, value) => {
      if (error && isJson(text)) {
        done(AppError.validation('Request body must not contain a "__proto__" key, nor a "constructor" key holding "prototype".'), undefined);
      } else {
        done(error, value);
      }
    });
  });
}

/** Only asked of a body the parser refused. */
function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The body's bytes as received, on the routes that verify a signature over them. */
    rawBody?: Buffer;
  }
}
