import type { RateLimitState } from '../store/admission-store';
import type { Principal } from '../auth/principal';

/**
 * What the rest of the request may need to know, on the Fastify request (`request.context`).
 * Deliberately not an AsyncLocalStorage: on Node 20 one costs every promise of the process a
 * hook (~7 µs of each admitted request, bench/PROFILE.md); whatever needs the request id — audit
 * events, log lines — gets it passed, through the principal or the request.
 */
export interface RequestContext {
  requestId: string;
  /**
   * The route pattern the router matched (`/v1/datasets/:id`, `/v1/*`), undefined when none did.
   * Read once: Fastify's `request.routeOptions` builds a new object on every access.
   */
  route: string | undefined;
  /** Set by admission once the credential is known. */
  principal?: Principal;
  /** Set by admission; written as rate-limit headers on every response. */
  rateLimit?: RateLimitState;
  /** The error code the request was answered with, for its log line (set by the filter). */
  errorCode?: string;
}
