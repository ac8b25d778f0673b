import { Logger } from '@nestjs/common';
import { B2BClient } from 'stytch';
import { PacedDownload } from '../remote-keys/paced-download';

/** How long the SDK (jose's remote JWK set, its defaults untouched by the SDK) uses a download. */
const SDK_CACHE_AGE_MS = 10 * 60_000;
/** We download again this much earlier, so that the SDK itself never has to. */
const REFRESH_AHEAD_MS = 30_000;
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
 * after a success). The pace is PacedDownload's: no stream of tokens with invented kids makes us
 * call Stytch more than once per period. Keys already held keep verifying meanwhile, offline,
 * for as long as the SDK keeps them (10 min after the last good download).
 */
export class StytchSigningKeys {
  private kids = new Set<string>();
  private usableUntil = 0;
  private readonly downloads: PacedDownload;

  constructor(private readonly keySet: RemoteKeySet) {
    this.downloads = new PacedDownload('The Stytch JWKS', () => this.download(), new Logger(StytchSigningKeys.name));
  }

  /** True when a token signed under `kid` can be verified now without a download. */
  holds(kid: string): boolean {
    return Date.now() < this.usableUntil && this.keySet.fresh && this.kids.has(kid);
  }

  /** Whether the key `kid` is in hand, after downloading the set if that is allowed now. */
  async obtain(kid: string): Promise<boolean> {
    if (this.holds(kid)) return true;
    await this.downloads.whenAllowed();
    return this.holds(kid);
  }

  private async download(): Promise<void> {
    await this.keySet.reload();
    this.usableUntil = Date.now() + SDK_CACHE_AGE_MS - REFRESH_AHEAD_MS;
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
