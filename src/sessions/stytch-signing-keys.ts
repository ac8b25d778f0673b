import { Logger } from '@nestjs/common';
import { B2BClient } from 'stytch';

/** How long the SDK (jose's remote JWK set, its defaults untouched by the SDK) uses a download. */
const SDK_CACHE_AGE_MS = 10 * 60_000;
/** We download again this much earlier, so that the SDK itself never has to. */
const REFRESH_AHEAD_MS = 30_000;
/** No download sooner than this after the last one: Stytch rotates its keys every few months. */
const MIN_INTERVAL_MS = 30_000;
/** After failed downloads the wait doubles from MIN_INTERVAL_MS up to this. */
const MAX_BACKOFF_MS = 5 * 60_000;
/** Stytch's JWT header is ~130 base64url characters; a much longer one is not Stytch's. */
const MAX_HEADER_LENGTH = 512;
const MAX_KID_LENGTH = 128;

/** What the SDK's key set (jose `createRemoteJWKSet`) offers besides resolving keys. */
export interface RemoteKeySet {
  readonly fresh: boolean;
  reload(): Promise<void>;
  jwks(): { keys: Array<Record<string, unknown>> } | undefined;
}

/** The SDK's client, with the key set its `sessions` verify against in reach (a protected field). */
export class StytchClient extends B2BClient {
  get sessionKeySet(): RemoteKeySet {
    const set = this.jwtConfig.jwks as unknown as Partial<RemoteKeySet>;
    if (typeof set.reload !== 'function' || typeof set.jwks !== 'function' || typeof set.fresh !== 'boolean') {
      throw new Error('This version of the Stytch SDK does not expose its JWKS cache; session verification needs it.');
    }
    return set as RemoteKeySet;
  }
}

/**
 * Decides when Stytch's JWKS is downloaded — the SDK never does it itself, as it would for every
 * token with an unknown `kid` while Stytch's endpoint fails (jose starts its 30 s cooldown only
 * after a success). At most one download at a time, none within 30 s of the last one, and after a
 * failure none for 30 s, doubling up to 5 min: no stream of tokens with invented kids makes us
 * call Stytch more than once per period. Keys already held keep verifying meanwhile, offline,
 * for as long as the SDK keeps them (10 min after the last good download).
 */
export class StytchSigningKeys {
  private readonly logger = new Logger(StytchSigningKeys.name);
  private kids = new Set<string>();
  private usableUntil = 0;
  private nextDownloadAt = 0;
  private failures = 0;
  private downloading: Promise<void> | undefined;

  constructor(private readonly keySet: RemoteKeySet) {}

  /** True when a token signed under `kid` can be verified now without a download. */
  holds(kid: string): boolean {
    return Date.now() < this.usableUntil && this.keySet.fresh && this.kids.has(kid);
  }

  /** Whether the key `kid` is in hand, after downloading the set if that is allowed now. */
  async obtain(kid: string): Promise<boolean> {
    if (this.holds(kid)) return true;
    if (!this.downloading && Date.now() >= this.nextDownloadAt) {
      this.downloading = this.download().finally(() => (this.downloading = undefined));
    }
    if (this.downloading) await this.downloading;
    return this.holds(kid);
  }

  private async download(): Promise<void> {
    try {
      await this.keySet.reload();
    } catch (error) {
      this.failures += 1;
      const wait = Math.min(MIN_INTERVAL_MS * 2 ** (this.failures - 1), MAX_BACKOFF_MS);
      this.nextDownloadAt = Date.now() + wait;
      this.logger.warn(`The Stytch JWKS is unavailable (${failureCode(error)}); next download in ${wait / 1000} s`);
      return;
    }
    const now = Date.now();
    this.failures = 0;
    this.nextDownloadAt = now + MIN_INTERVAL_MS;
    this.usableUntil = now + SDK_CACHE_AGE_MS - REFRESH_AHEAD_MS;
    this.kids = rs256Kids(this.keySet.jwks()?.keys ?? []);
  }
}

/**
 * The `kid` of a token's header if it names an RS256 key — Stytch signs session JWTs with RS256
 * only — else null. Reads the header without trusting it, in bounded time.
 */
export function signingKeyId(token: string): string | null {
  const end = token.indexOf('.');
  if (end <= 0 || end > MAX_HEADER_LENGTH) return null;
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(token.slice(0, end), 'base64url').toString('utf8'));
  } catch {
    return null; // not JSON: not a JWT
  }
  const { alg, kid } = (typeof header === 'object' && header !== null ? header : {}) as { alg?: unknown; kid?: unknown };
  return alg === 'RS256' && typeof kid === 'string' && kid.length > 0 && kid.length <= MAX_KID_LENGTH ? kid : null;
}

/** The most specific code a failure carries: the jose or socket cause, else its own. */
export function failureCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : 'unknown';
}

/** The kids jose would pick for an RS256 token — exactly its candidate rule for that algorithm. */
function rs256Kids(keys: Array<Record<string, unknown>>): Set<string> {
  const usable = keys.filter(
    (key) =>
      typeof key.kid === 'string' &&
      key.kty === 'RSA' &&
      (typeof key.alg !== 'string' || key.alg === 'RS256') &&
      (typeof key.use !== 'string' || key.use === 'sig') &&
      (!Array.isArray(key.key_ops) || key.key_ops.includes('verify')),
  );
  return new Set(usable.map((key) => key.kid as string));
}
