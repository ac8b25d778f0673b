import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors/app-error';
import { bodyShapeProblem } from './body-shape';

/**
 * The one parser of request bodies (JSON only). The text must first pass bodyShapeProblem, so a
 * body no request needs is refused without being parsed. Then Fastify's own parser, which refuses
 * a `__proto__` key anywhere and a `constructor` key holding `prototype` (copied onto another
 * object they would change its prototype) but calls them "not valid JSON", as it does a syntax
 * error: the refusal stays, and its message says why.
 */
export function registerJsonBodyParser(fastify: FastifyInstance): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
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
