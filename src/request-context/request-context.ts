import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from '../auth/principal';
import type { RateLimitState } from '../store/admission-store';

/** What the rest of the request may need to know, without request-scoped providers. */
export interface RequestContext {
  requestId: string;
  /** Set by the auth guard once the credential is known. */
  principal?: Principal;
  /** Set by the admission guard; written as rate-limit headers on every response. */
  rateLimit?: RateLimitState;
  /** The request revoked the very key it authenticated with (its answer is still sent). */
  revokedOwnKey?: boolean;
}

const storage = new AsyncLocalStorage<RequestContext>();

export const RequestContexts = {
  /** Runs `fn` (and everything it continues into) inside `context`. */
  run<T>(context: RequestContext, fn: () => T): T {
    return storage.run(context, fn);
  },
  current(): RequestContext | undefined {
    return storage.getStore();
  },
  requestId(): string | undefined {
    return storage.getStore()?.requestId;
  },
};
