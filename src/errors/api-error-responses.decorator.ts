import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorEnvelopeDto } from './error-envelope';

/** The error answers every authenticated route can give, documented once (CONTRACT §4). */
export const ApiErrorResponses = (): ClassDecorator & MethodDecorator =>
  applyDecorators(
    ApiResponse({ status: 400, type: ErrorEnvelopeDto, description: 'VALIDATION_FAILED' }),
    ApiResponse({ status: 401, type: ErrorEnvelopeDto, description: 'UNAUTHORIZED, INVALID_API_KEY, API_KEY_REVOKED, API_KEY_EXPIRED, INVALID_SESSION' }),
    ApiResponse({ status: 403, type: ErrorEnvelopeDto, description: 'FORBIDDEN (role) or ENTERPRISE_REQUIRED (tier)' }),
    ApiResponse({ status: 404, type: ErrorEnvelopeDto, description: 'NOT_FOUND: unknown, or not in your organization' }),
    ApiResponse({ status: 429, type: ErrorEnvelopeDto, description: 'RATE_LIMITED, with Retry-After' }),
    ApiResponse({ status: 500, type: ErrorEnvelopeDto, description: 'INTERNAL_ERROR' }),
    ApiResponse({ status: 503, type: ErrorEnvelopeDto, description: 'SERVICE_UNAVAILABLE' }),
  );
