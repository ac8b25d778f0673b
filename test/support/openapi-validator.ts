import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { OpenAPIObject, OperationObject, ReferenceObject, ResponseObject } from '@nestjs/swagger';
import type { HeaderObject } from '@nestjs/swagger';
import { RATE_LIMIT_HEADERS, RESPONSE_HEADERS } from '../../src/api-docs/headers';

/** One response the server sent, as the end-to-end suite saw it leave. */
export interface Exchange {
  method: string;
  /** The route pattern the router matched (`/v1/api-keys/:id`, `/v1/*`); undefined when none did. */
  route: string | undefined;
  url: string;
  status: number;
  /** Names in lower case. */
  headers: Record<string, unknown>;
  /** The body as sent; undefined when it is not text (a stream, a file). */
  body: string | undefined;
  /** Admitted under an API key: CONTRACT §3 wants the rate-limit headers on the answer. */
  keyAdmitted: boolean;
}

const DOCUMENT_ID = 'openapi.json';
const ENVELOPE_REF = `${DOCUMENT_ID}#/components/schemas/ErrorEnvelopeDto`;
/** Routes the document leaves out by design: the reference itself and the Prometheus scrape. */
const UNDOCUMENTED = /^\/(docs(\/|$)|metrics$)/;

/**
 * Checks a response against the OpenAPI document with a real JSON Schema validator (Ajv): its
 * status is declared for its operation, its body matches that status's schema, and the headers
 * declared as required are there. Responses to paths no route takes are held to the error envelope.
 */
export class OpenApiValidator {
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly document: OpenAPIObject) {
    addFormats(this.ajv);
    this.ajv.addSchema(document as object, DOCUMENT_ID);
  }

  /** What is wrong with the response, one sentence each; empty when it matches the document. */
  violations(exchange: Exchange): string[] {
    const problems: string[] = [];
    const where = `${exchange.method} ${exchange.url} → ${exchange.status}`;
    if (exchange.headers['x-request-id'] === undefined) problems.push(`${where}: no X-Request-Id`);
    const route = exchange.route;
    if (route !== undefined && UNDOCUMENTED.test(route)) return problems;
    if (route === undefined || route.includes('*')) {
      // A CORS preflight is answered by the CORS layer, with no body.
      if (exchange.method === 'OPTIONS' && exchange.status === 204) return problems;
      return [...problems, ...this.bodyProblems(where, ENVELOPE_REF, exchange)];
    }
    const template = route.replace(/:(\w+)/g, '{$1}');
    const method = exchange.method === 'HEAD' ? 'get' : exchange.method.toLowerCase();
    const operation = (this.document.paths[template] as Record<string, OperationObject> | undefined)?.[method];
    if (!operation) return [...problems, `${where}: ${method.toUpperCase()} ${template} is not in the document`];
    const declared = operation.responses[String(exchange.status)] as ResponseObject | ReferenceObject | undefined;
    if (!declared) return [...problems, `${where}: status ${exchange.status} is not declared for ${method.toUpperCase()} ${template}`];
    // A shared answer (`components.responses`) is validated where it is declared.
    const at = '$ref' in declared ? declared.$ref : `#/paths/${escape(template)}/${method}/responses/${exchange.status}`;
    const response = '$ref' in declared ? (this.document.components!.responses![declared.$ref.split('/').pop()!] as ResponseObject) : declared;

    problems.push(...this.headerProblems(where, response, exchange));
    if (response.content?.['application/json']) {
      if (exchange.method !== 'HEAD') problems.push(...this.bodyProblems(where, `${DOCUMENT_ID}${at}/content/application~1json/schema`, exchange));
    } else if (exchange.body) {
      problems.push(`${where}: a body where the document declares none`);
    }
    return problems;
  }

  private headerProblems(where: string, response: ResponseObject, exchange: Exchange): string[] {
    const problems: string[] = [];
    const declared = new Map(Object.entries(response.headers ?? {}).map(([name, header]) => [name.toLowerCase(), this.header(header)]));
    for (const [name, header] of declared) {
      if (header.required && exchange.headers[name] === undefined) problems.push(`${where}: no ${name} header, which the document requires`);
    }
    // The other way round: every header of CONTRACT §3–§5 the server sent is declared for this response.
    for (const name of Object.keys(RESPONSE_HEADERS)) {
      if (exchange.headers[name.toLowerCase()] !== undefined && !declared.has(name.toLowerCase())) {
        problems.push(`${where}: sends ${name}, which the document does not declare for this response`);
      }
    }
    if (exchange.keyAdmitted) {
      for (const name of RATE_LIMIT_HEADERS) {
        if (exchange.headers[name.toLowerCase()] === undefined) problems.push(`${where}: no ${name} on an answer to an API key`);
      }
    }
    return problems;
  }

  private header(header: HeaderObject | ReferenceObject): HeaderObject {
    if (!('$ref' in header)) return header;
    return this.document.components!.headers![header.$ref.split('/').pop()!] as HeaderObject;
  }

  private bodyProblems(where: string, ref: string, exchange: Exchange): string[] {
    const type = String(exchange.headers['content-type'] ?? '');
    if (!type.startsWith('application/json')) return [`${where}: Content-Type ${type || '(none)'}, not application/json`];
    let body: unknown;
    try {
      body = JSON.parse(exchange.body ?? '');
    } catch {
      return [`${where}: the body is not JSON`];
    }
    const validate = this.validator(ref);
    if (validate(body)) return [];
    return (validate.errors ?? []).map((error) => `${where}: body${error.instancePath} ${error.message} (${error.schemaPath})`);
  }

  private validator(ref: string): ValidateFunction {
    let validate = this.compiled.get(ref);
    if (!validate) this.compiled.set(ref, (validate = this.ajv.compile({ $ref: ref })));
    return validate;
  }
}

/** A path template as a JSON Pointer segment, in a URI fragment. */
function escape(segment: string): string {
  return encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1'));
}
