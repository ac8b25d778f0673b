import { isDeepStrictEqual } from 'node:util';
import type { OpenAPIObject, OperationObject, ReferenceObject, ResponseObject, SchemaObject } from '@nestjs/swagger';
import { ErrorEnvelopeDto } from '../errors/error-envelope';
import { isEnterprisePath } from '../tiers/enterprise';
import { EVERY_RESPONSE, RATE_LIMIT_HEADERS, RESPONSE_HEADERS, ResponseHeaderName } from './headers';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const ENVELOPE = { $ref: `#/components/schemas/${ErrorEnvelopeDto.name}` };

/** Answers every operation of a path, or of a kind of operation, can give: facts of the server, not of one route. */
const PATH_ERRORS: Record<number, string> = {
  405: 'METHOD_NOT_ALLOWED: the path exists, but not for this method; `Allow` lists the methods it answers.',
};
const BODY_ERRORS: Record<number, string> = {
  413: 'PAYLOAD_TOO_LARGE: the body is over 1 MiB.',
  415: 'UNSUPPORTED_MEDIA_TYPE: the body is not JSON (`Content-Type: application/json`), or it is compressed (`Content-Encoding`).',
};
/** Error answers worded the same on every operation: declared once under `components.responses`. */
const SHARED_ERRORS = new Set(['400', '401', '404', '405', '413', '415', '429', '500', '503']);
const ENTERPRISE_NOTE = 'Enterprise tier only: an organization below it is answered `403 ENTERPRISE_REQUIRED`.';

/**
 * What the controllers' decorators cannot say, applied to the generated document in one pass —
 * each by the same rule the server follows, so the document cannot drift from it:
 * - operations without a bearer requirement are public, and say so (`security: []`);
 * - every path answers 405 to a method it lacks; every operation but a read may answer 413 and
 *   415 (the body refusals of src/http-hardening.ts apply to every route that is not GET/HEAD);
 * - Enterprise operations (the tier gate's own path rule) carry `x-enterprise-only: true` and say so;
 * - response headers (CONTRACT §3–§5) as references to `components.headers`: `X-Request-Id` and
 *   `Cache-Control` everywhere, the rate-limit fields on authenticated /v1 answers, `Retry-After`
 *   on 429, `Allow` on 405;
 * - request bodies are closed (`additionalProperties: false`), as the validation pipe refuses
 *   unknown fields; free-form objects that name no properties (a record's `data`) stay open.
 * Error answers alike across operations are then declared once and referenced, which keeps the
 * document (served on every docs page load) a fraction of the size.
 */
export function finishDocument(document: OpenAPIObject): OpenAPIObject {
  document.components = { ...document.components, headers: { ...RESPONSE_HEADERS } };
  const closed = new Set<object>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      operation.security ??= [];
      addErrors(operation, PATH_ERRORS);
      if (method !== 'get' && method !== 'head') addErrors(operation, BODY_ERRORS);
      if (isEnterprisePath(path)) markEnterprise(operation);
      addHeaders(operation, path);
      shareErrors(document, operation, path);
      const body = operation.requestBody as { content?: Record<string, { schema?: SchemaObject | ReferenceObject }> } | undefined;
      for (const media of Object.values(body?.content ?? {})) closeObjects(document, media.schema, closed);
    }
  }
  return document;
}

function addErrors(operation: OperationObject, errors: Record<number, string>): void {
  for (const [status, description] of Object.entries(errors)) {
    operation.responses[status] ??= { description, content: { 'application/json': { schema: ENVELOPE } } };
  }
}

function markEnterprise(operation: OperationObject): void {
  (operation as OperationObject & Record<'x-enterprise-only', boolean>)['x-enterprise-only'] = true;
  operation.description = operation.description ? `${operation.description}\n\n${ENTERPRISE_NOTE}` : ENTERPRISE_NOTE;
}

function addHeaders(operation: OperationObject, path: string): void {
  const authenticated = path.startsWith('/v1/') && operation.security!.length > 0;
  for (const [status, response] of Object.entries(operation.responses) as [string, ResponseObject][]) {
    const names: ResponseHeaderName[] = [...EVERY_RESPONSE];
    // Optional (`required: false`): absent when the credential was refused before admission;
    // present on any status once admitted, a 401 for a key revoked in flight included.
    if (authenticated) names.push(...RATE_LIMIT_HEADERS);
    if (status === '429') names.push('Retry-After');
    if (status === '405') names.push('Allow');
    response.headers = { ...response.headers, ...Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }])) };
  }
}

function shareErrors(document: OpenAPIObject, operation: OperationObject, path: string): void {
  const shared = (document.components!.responses ??= {});
  const scope = path.startsWith('/v1/') ? 'Api' : 'Public';
  for (const [status, response] of Object.entries(operation.responses) as [string, ResponseObject | ReferenceObject][]) {
    if (!SHARED_ERRORS.has(status) || '$ref' in response) continue;
    const name = `${scope}Error${status}`;
    shared[name] ??= response;
    // A route that words this status its own way keeps its answer inline.
    if (isDeepStrictEqual(shared[name], response)) operation.responses[status] = { $ref: `#/components/responses/${name}` };
  }
}

function closeObjects(document: OpenAPIObject, schema: SchemaObject | ReferenceObject | undefined, seen: Set<object>): void {
  if (!schema) return;
  if ('$ref' in schema) {
    return closeObjects(document, document.components?.schemas?.[schema.$ref.split('/').pop()!], seen);
  }
  if (seen.has(schema)) return;
  seen.add(schema);
  if (schema.properties) schema.additionalProperties = false;
  const children = [
    ...Object.values(schema.properties ?? {}),
    ...(schema.allOf ?? []), ...(schema.oneOf ?? []), ...(schema.anyOf ?? []),
    ...(schema.items ? [schema.items] : []),
  ];
  for (const child of children) closeObjects(document, child, seen);
}
