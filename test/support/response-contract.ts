import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { buildOpenApiDocument } from '../../src/openapi';
import { OpenApiValidator } from './openapi-validator';
import { addToValidatedTotal } from './validated-total';

/**
 * Every response an application started by the end-to-end suite sends is checked against the
 * OpenAPI document as it leaves (a Fastify `onSend` hook). Violations fail the test that was
 * running; the number of responses checked is added up for the whole run (printed at its end).
 *
 * Answers written on the raw socket outside Fastify (src/http-hardening.ts: a request Node cannot
 * parse, headers over 16 KiB, CONNECT) never pass a hook and are not checked here.
 */
let validator: OpenApiValidator | undefined;
let violations: string[] = [];
let validated = 0;

export function watchResponses(app: NestFastifyApplication): void {
  // The document does not depend on the configuration beyond its server URL: built once per spec file.
  const check = (validator ??= new OpenApiValidator(buildOpenApiDocument(app)));
  app.getHttpAdapter().getInstance().addHook('onSend', (request, reply, payload, done) => {
    const found = check.violations({
      method: request.method,
      route: request.routeOptions.url,
      url: request.url,
      status: reply.statusCode,
      headers: lowerCase(reply.getHeaders()),
      body: typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : payload == null ? '' : undefined,
      keyAdmitted: request.context?.principal?.kind === 'api_key' && request.context.rateLimit !== undefined,
    });
    validated++;
    violations.push(...found);
    done(null, payload);
  });
}

/** Throws the violations seen since the last call, if any (the test then fails with them). */
export function assertResponsesMatchDocument(): void {
  const found = violations;
  violations = [];
  if (found.length === 0) return;
  const shown = [...new Set(found)];
  throw new Error(`Responses that do not match the OpenAPI document (${found.length}):\n  ${shown.slice(0, 20).join('\n  ')}`);
}

/** This spec file's count, added to the run's (globalTeardown prints the total). */
export function recordValidatedCount(): void {
  addToValidatedTotal(validated);
  validated = 0;
}

function lowerCase(headers: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}
