import type { FastifyReply } from 'fastify';
import type { RateLimitState } from '../store/admission-store';

/** Whole seconds to wait, rounded up, at least 1 (CONTRACT §5). */
export function retryAfterSeconds(state: RateLimitState): number {
  return Math.max(1, Math.ceil(state.retryAfterMs / 1000));
}

/**
 * CONTRACT §3: the GitHub-style fields and the same figures in the IETF draft fields
 * (draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy: "default";q=…;w=…`, `RateLimit: "default";r=…;t=…`).
 * Written on the reply before anything can fail, so errors carry them too.
 */
export function writeRateLimitHeaders(reply: FastifyReply, state: RateLimitState, nowMs = Date.now()): void {
  const resetInSeconds = Math.max(0, Math.ceil((state.resetAtMs - nowMs) / 1000));
  reply.header('x-ratelimit-limit', String(state.limit));
  reply.header('x-ratelimit-remaining', String(state.remaining));
  reply.header('x-ratelimit-reset', String(Math.ceil(state.resetAtMs / 1000)));
  reply.header('ratelimit-policy', `"default";q=${state.limit};w=${state.windowSeconds}`);
  reply.header('ratelimit', `"default";r=${state.remaining};t=${resetInSeconds}`);
}
