export { LucitraClient, type LucitraClientOptions, type LucitraMethod } from './client';
export { LucitraApiError, type LucitraApiErrorFields } from './errors';
export type { RateLimitState } from './rate-limit';
export {
  backoffCeilingMs,
  DEFAULT_RETRY_POLICY,
  isRetryable,
  nextRetryDelayMs,
  parseRetryAfterMs,
  retryDelayMs,
  type RetryPolicy,
} from './retry/backoff';
export type { RetryEvent } from './retry/retrying-fetch';
export type {
  ApiKey,
  components,
  CreatedApiKey,
  Dataset,
  ErrorCode,
  ErrorEnvelope,
  FieldError,
  ListItem,
  ListPath,
  ListQuery,
  Organization,
  paths,
  ResponseBody,
} from './schema-types';
