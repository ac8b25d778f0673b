import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorEnvelopeDto } from './error-envelope';

/** One documented error answer: the envelope (CONTRACT §4), its codes and when. */
export const ApiErrorResponse = (status: number, description: string): ClassDecorator & MethodDecorator =>
  ApiResponse({ status, type: ErrorEnvelopeDto, description });

/**
 * The error answers every /v1 route can give, documented once. 403 and 409 depend on the route
 * (ApiForbiddenError, ApiConflictError, EnterpriseOnly); 405, 413 and 415 are added by path and
 * method when the document is finished (src/api-docs/finish-document.ts).
 */
export const ApiErrorResponses = (): ClassDecorator & MethodDecorator =>
  applyDecorators(
    ApiErrorResponse(400, 'VALIDATION_FAILED: the body, query or path fails validation (unknown fields included), or the body is not valid JSON; `details` says what, field by field.'),
    ApiErrorResponse(401, 'UNAUTHORIZED (no Bearer credential), INVALID_API_KEY, API_KEY_REVOKED, API_KEY_EXPIRED or INVALID_SESSION.'),
    ApiErrorResponse(404, 'NOT_FOUND: no such resource in your organization (one of another organization is answered the same way).'),
    ApiErrorResponse(429, 'RATE_LIMITED: over the rate limit of the key or member (or too many failed authentications from this address); wait `retry_after` seconds.'),
    ApiErrorResponse(500, 'INTERNAL_ERROR: a fault on our side; quote the `request_id` when reporting it.'),
    ApiErrorResponse(503, 'SERVICE_UNAVAILABLE: the database or the rate-limit store is unavailable; retry later.'),
  );

/** 403 FORBIDDEN: authenticated, but not allowed to do this. */
export const ApiForbiddenError = (when: string): ClassDecorator & MethodDecorator => ApiErrorResponse(403, `FORBIDDEN: ${when}`);

/** 409 CONFLICT: the resource's state does not allow the change. */
export const ApiConflictError = (when: string): ClassDecorator & MethodDecorator => ApiErrorResponse(409, `CONFLICT: ${when}`);
