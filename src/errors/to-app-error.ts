import { HttpException } from '@nestjs/common';
import { AppError, ERROR_STATUS, ErrorCode } from './app-error';

/** Node/driver error codes that mean "a dependency is not reachable", not "a bug". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN',
  // PostgreSQL: admin shutdown, crash shutdown, cannot connect now, too many connections
  '57P01', '57P02', '57P03', '53300',
  // Prisma: can't reach / timed out / closed
  'P1001', 'P1002', 'P1017', 'P2024',
]);

const UNAVAILABLE_MESSAGES = [
  'Connection terminated', 'Connection is closed', 'Stream isn\'t writeable', 'timeout exceeded when trying to connect',
  'Reached the max retries per request limit', 'connect ECONNREFUSED', 'Client has encountered a connection error',
  // Redis Cluster: a shard failing over (its slots move, or are served by nobody for a moment)
  'Too many Cluster redirections', 'No replica confirmed the write',
];

/** Redis replies of a cluster in motion: a slot moving, a shard failing over, a node loading. */
const UNAVAILABLE_REPLY = /^(MOVED|ASK|CLUSTERDOWN|TRYAGAIN|READONLY|LOADING|MASTERDOWN) /;

const STATUS_CODES = new Map<number, ErrorCode>(
  (Object.entries(ERROR_STATUS) as [ErrorCode, number][])
    .filter(([code]) => !['INVALID_API_KEY', 'API_KEY_REVOKED', 'API_KEY_EXPIRED', 'INVALID_SESSION', 'ENTERPRISE_REQUIRED'].includes(code))
    .map(([code, status]) => [status, code]),
);

/**
 * Walks an error and its causes. Prisma's own errors (P2039 & co.) carry the driver's error,
 * with PostgreSQL's SQLSTATE (57P01 while it shuts down), under `meta.driverAdapterError`.
 */
function* chain(error: unknown): Generator<Record<string, unknown>> {
  let current = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    yield current as Record<string, unknown>;
    const link = current as { cause?: unknown; meta?: { driverAdapterError?: unknown } };
    current = link.cause ?? link.meta?.driverAdapterError;
  }
}

/** Errors of the language itself: their messages describe code, never data. */
const LANGUAGE_ERRORS = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError']);

export interface FailureLink {
  type: string;
  code?: string;
  message?: string;
}

/**
 * A failure as a log line may show it: each link of the chain by type and code (SQLSTATE, Prisma
 * or socket code) — no stack, and a message only for the language's own errors. Driver and Prisma
 * messages quote queries and their arguments (a key hash in a `where`), so they stay out.
 */
export function describeFailure(error: unknown): FailureLink[] {
  return [...chain(error)].map((link) => {
    const type = typeof link.name === 'string' ? link.name : (link.constructor as { name?: string } | undefined)?.name ?? 'unknown';
    return {
      type,
      ...(typeof link.code === 'string' ? { code: link.code } : {}),
      ...(LANGUAGE_ERRORS.has(type) && typeof link.message === 'string' ? { message: link.message } : {}),
    };
  });
}

export function isUnavailable(error: unknown): boolean {
  for (const link of chain(error)) {
    if (typeof link.code === 'string' && UNAVAILABLE_CODES.has(link.code)) return true;
    if (link.name === 'MaxRetriesPerRequestError') return true;
    const message = typeof link.message === 'string' ? link.message : '';
    if (UNAVAILABLE_MESSAGES.some((text) => message.includes(text))) return true;
    if (link.name === 'ReplyError' && UNAVAILABLE_REPLY.test(message)) return true;
  }
  return false;
}

/** Fastify's own request errors (body parsing, limits) carry `code: 'FST_…'` and a 4xx status. */
function fromFastify(error: { code?: unknown; statusCode?: unknown; message?: unknown }): AppError | undefined {
  const status = typeof error.statusCode === 'number' ? error.statusCode : undefined;
  if (!status || status >= 500) return undefined;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', 'Request body is larger than the 1 MiB limit.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Request body must be JSON (Content-Type: application/json).');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return AppError.validation('Request body is empty but Content-Type is application/json.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return AppError.validation('Request body is not valid JSON.');
  }
  if (status === 400 && (error instanceof SyntaxError || String(error.code ?? '').startsWith('FST_ERR_CTP'))) {
    return AppError.validation('Request body is not valid JSON.');
  }
  if (status === 413) return new AppError('PAYLOAD_TOO_LARGE', 'Request body is larger than the 1 MiB limit.');
  if (status === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Request body must be JSON (Content-Type: application/json).');
  if (status === 400) return AppError.validation('The request is malformed.');
  return undefined;
}

/**
 * Turns anything thrown while answering a request into an AppError. `routeNotFound` is given
 * the 404s of the router so that it can tell 404 from 405.
 */
export function toAppError(exception: unknown, routeNotFound: () => AppError): AppError {
  if (exception instanceof AppError) return exception;
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status === 404) return routeNotFound();
    const fastify = fromFastify({ statusCode: status, message: exception.message });
    if (fastify && status !== 400) return fastify;
    const code = STATUS_CODES.get(status);
    if (code && status < 500) return new AppError(code, exception.message);
  }
  if (exception && typeof exception === 'object') {
    const prismaCode = (exception as { code?: unknown }).code;
    if (prismaCode === 'P2002') return new AppError('CONFLICT', 'A resource with these values already exists.');
    if (prismaCode === 'P2025') return AppError.notFound('Resource');
    const fastify = fromFastify(exception as Record<string, unknown>);
    if (fastify) return fastify;
  }
  if (isUnavailable(exception)) {
    return new AppError('SERVICE_UNAVAILABLE', 'A service this request depends on is unavailable. Please retry shortly.');
  }
  return new AppError('INTERNAL_ERROR', 'An unexpected error occurred. Contact support with the request id.');
}
