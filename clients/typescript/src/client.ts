import createClient, { type Client, type FetchResponse, type MaybeOptionalInit, type Middleware } from 'openapi-fetch';
import { type RateLimitState, readRateLimit } from './rate-limit';
import type { RetryPolicy } from './retry/backoff';
import { type RetryEvent, retryingFetch } from './retry/retrying-fetch';
import type { ListItem, ListPath, ListQuery, Method, paths } from './schema-types';

export interface LucitraClientOptions {
  /** Where the API is served, e.g. `http://localhost:3000`. */
  baseUrl: string;
  /** `luci_…`, sent as `Authorization: Bearer`; a dashboard session JWT works the same way. */
  apiKey?: string;
  /** Sent with every request. */
  headers?: Record<string, string>;
  /** Backoff on 429 and 503 (see README); `false` never retries. */
  retry?: Partial<RetryPolicy> | false;
  /** Told before each retry's wait. */
  onRetry?: (event: RetryEvent) => void;
  /** The fetch to send with (default: the global one). */
  fetch?: (request: Request) => Promise<Response>;
}

type PathsWith<M extends Method> = { [P in keyof paths]: paths[P] extends { [K in M]: { responses: unknown } } ? P : never }[keyof paths];
type InitArgs<Init> = undefined extends Init ? [init?: Init] : [init: Init];
/** The success of a call: failures are thrown, so `data` is always the success body. */
type Succeeded<R> = Extract<R, { data: unknown }>;
/** openapi-fetch's method, with the error branch taken out of the result (it is thrown instead). */
export type LucitraMethod<M extends Method> = <P extends PathsWith<M>, Init extends MaybeOptionalInit<paths[P], M>>(
  url: P,
  ...init: InitArgs<Init>
) => Promise<Succeeded<FetchResponse<paths[P][M] & Record<string | number, unknown>, Init, `${string}/${string}`>>>;

type Page = { data: unknown[]; next_cursor: string | null };
type LooseGet = (url: string, init: { params: { query: Record<string, unknown> }; signal?: AbortSignal }) => Promise<{ data: Page }>;

/**
 * The Lucitra Validate API, typed from its OpenAPI document: `GET`, `POST` and `DELETE` take the
 * document's paths, parameters and bodies and return its response types. Every failure is thrown
 * as a LucitraApiError; `429` is retried for every method and `503` for idempotent ones.
 */
export class LucitraClient {
  readonly GET: LucitraMethod<'get'>;
  readonly POST: LucitraMethod<'post'>;
  readonly DELETE: LucitraMethod<'delete'>;
  private readonly client: Client<paths>;
  private lastRateLimit: RateLimitState | undefined;

  constructor(options: LucitraClientOptions) {
    const send = options.fetch ?? ((request: Request) => globalThis.fetch(request));
    this.client = createClient<paths>({
      baseUrl: options.baseUrl,
      headers: { ...options.headers, ...(options.apiKey ? { Authorization: `Bearer ${options.apiKey}` } : {}) },
      fetch: retryingFetch({
        fetch: send,
        policy: options.retry === false ? { maxAttempts: 1 } : options.retry,
        onRetry: options.onRetry,
        onResponse: (response) => {
          this.lastRateLimit = readRateLimit(response.headers) ?? this.lastRateLimit;
        },
      }),
    });
    // Only successes reach openapi-fetch's result: the fetch above throws every failure.
    this.GET = this.client.GET as unknown as LucitraMethod<'get'>;
    this.POST = this.client.POST as unknown as LucitraMethod<'post'>;
    this.DELETE = this.client.DELETE as unknown as LucitraMethod<'delete'>;
  }

  /** `X-RateLimit-*` of the last response that carried them (undefined before the first). */
  get rateLimit(): RateLimitState | undefined {
    return this.lastRateLimit;
  }

  /** openapi-fetch middleware (extra headers, logging…), run around every call. */
  use(...middleware: Middleware[]): void {
    this.client.use(...middleware);
  }

  /**
   * Every item of a list, page after page, following `next_cursor`:
   * `for await (const key of client.paginate('/v1/api-keys', { limit: 100 }))`.
   */
  async *paginate<P extends ListPath>(path: P, query?: ListQuery<P>, options: { signal?: AbortSignal } = {}): AsyncGenerator<ListItem<P>, void, undefined> {
    const get = this.client.GET as unknown as LooseGet;
    let cursor: string | undefined;
    do {
      const { data: page } = await get(path, { params: { query: { ...query, cursor } }, signal: options.signal });
      yield* page.data as ListItem<P>[];
      // A cursor handed back unchanged would loop for ever.
      if (page.next_cursor !== null && page.next_cursor === cursor) throw new Error(`${path} returned the same next_cursor twice`);
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }
}
