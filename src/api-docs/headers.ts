import type { HeaderObject } from '@nestjs/swagger';

/**
 * The response headers of CONTRACT §3–§5, declared once under `components.headers`. Which
 * responses carry which is said in finish-document.ts, by the same rules the server follows.
 */
export const RESPONSE_HEADERS = {
  'X-Request-Id': {
    required: true,
    description: 'This request\'s id (`req_…`), also in every log line of it and in any error\'s `request_id`.',
    schema: { type: 'string', pattern: '^req_[0-9a-f]{16,}$', example: 'req_7f3a2b1c4d5e6f708192a3b4' },
  },
  'Cache-Control': {
    required: true,
    description: 'Always `no-store`: no answer of this API may be cached.',
    schema: { type: 'string', enum: ['no-store'] },
  },
  'X-RateLimit-Limit': {
    description: 'Requests the window admits for this API key (or dashboard member). On every authenticated answer.',
    schema: { type: 'integer', minimum: 1, example: 100 },
  },
  'X-RateLimit-Remaining': {
    description: 'Requests left in the window now.',
    schema: { type: 'integer', minimum: 0, example: 42 },
  },
  'X-RateLimit-Reset': {
    description: 'Unix time, in whole seconds, when `X-RateLimit-Remaining` next grows.',
    schema: { type: 'integer', minimum: 0, example: 1767225600 },
  },
  'RateLimit-Policy': {
    description: 'The window, as the IETF draft field: `"default";q=<limit>;w=<window seconds>`.',
    schema: { type: 'string', example: '"default";q=100;w=60' },
  },
  RateLimit: {
    description: 'The same figures as the IETF draft field: `"default";r=<remaining>;t=<seconds until reset>`.',
    schema: { type: 'string', example: '"default";r=42;t=12' },
  },
  'Retry-After': {
    required: true,
    description: 'Whole seconds until a request will be accepted again (at least 1); the same as `retry_after`.',
    schema: { type: 'integer', minimum: 1, example: 12 },
  },
  Allow: {
    required: true,
    description: 'The methods the path does answer to.',
    schema: { type: 'string', example: 'GET, POST' },
  },
} satisfies Record<string, HeaderObject>;

export type ResponseHeaderName = keyof typeof RESPONSE_HEADERS;

/** On every answer but the reference pages at /docs. */
export const EVERY_RESPONSE: readonly ResponseHeaderName[] = ['X-Request-Id', 'Cache-Control'];

/** On every answer to an authenticated /v1 request (API key or dashboard session): CONTRACT §3. */
export const RATE_LIMIT_HEADERS: readonly ResponseHeaderName[] = [
  'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'RateLimit-Policy', 'RateLimit',
];
