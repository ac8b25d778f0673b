import { LucitraApiError } from '../errors';
import { DEFAULT_RETRY_POLICY, nextRetryDelayMs, parseRetryAfterMs, RetryPolicy } from './backoff';

/** Told before each retry's wait. */
export interface RetryEvent {
  method: string;
  url: string;
  /** The attempt that failed; 1 for the first. */
  attempt: number;
  status: number;
  /** What `Retry-After` asked for, if anything. */
  retryAfterMs: number | undefined;
  /** The wait that starts now: at least `retryAfterMs`. */
  delayMs: number;
}

export interface RetryingFetchOptions {
  fetch: (request: Request) => Promise<Response>;
  policy?: Partial<RetryPolicy>;
  /** Every response received, retried ones included (the rate-limit state reads it). */
  onResponse?: (response: Response) => void;
  onRetry?: (event: RetryEvent) => void;
  random?: () => number;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal | null) => Promise<void>;
}

/**
 * A fetch that sends a request again on `429` (any method) and `503` (idempotent methods) after
 * the backoff of `./backoff`, within the policy's attempts and time; any other failure, or the
 * last one, is thrown as a LucitraApiError. Success responses are handed back untouched.
 */
export function retryingFetch(options: RetryingFetchOptions): (request: Request) => Promise<Response> {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? abortableSleep;
  return async (request) => {
    const startedAt = now();
    for (let attempt = 1; ; attempt++) {
      // The original stays unread, so its body can be sent again.
      const response = await options.fetch(request.clone());
      options.onResponse?.(response);
      if (response.ok) return response;
      const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'), now());
      const failed = { attempt, status: response.status, method: request.method, retryAfterMs, elapsedMs: now() - startedAt };
      const delayMs = nextRetryDelayMs(failed, policy, options.random);
      if (delayMs === undefined) throw await LucitraApiError.fromResponse(response);
      // Let the connection go back to the pool while we wait.
      await response.body?.cancel().catch(() => undefined);
      options.onRetry?.({ method: request.method, url: request.url, attempt, status: response.status, retryAfterMs, delayMs });
      await sleep(delayMs, request.signal);
    }
  };
}

function abortableSleep(ms: number, signal: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
