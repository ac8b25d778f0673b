import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { SessionAuthenticator } from '../auth/authenticators';
import type { MemberPrincipal } from '../auth/principal';
import type { StytchConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { OrganizationsService } from '../organizations/organizations.service';
import { failureCode } from '../remote-keys/paced-download';
import { StytchClient, StytchSigningKeys, signingKeyId } from './stytch-signing-keys';
import { VerifiedSession, readVerifiedSession } from './verified-session';

/** Stytch session JWTs are about 1 KB; anything far larger is not one and is not worth parsing. */
const MAX_TOKEN_LENGTH = 8192;
/** A signed compact JWS: header.payload.signature, each base64url. */
const JWS_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Stytch B2B session JWTs (the dashboard), verified offline by the Stytch SDK against the
 * project's JWKS. Only `authenticateJwtLocal` is used: `authenticateJwt` quietly calls Stytch's
 * API whenever local verification fails — for every forged or expired token too.
 *
 * The keys are the SDK's (jose's remote JWK set), but when they are downloaded is decided by
 * StytchSigningKeys: a token is handed to the SDK only once its `kid` is known to be in the set,
 * so the SDK never downloads on its own — and junk with invented kids cannot make us call Stytch
 * more than once per period, even while Stytch's endpoint fails.
 */
export class StytchSessionAuthenticator extends SessionAuthenticator {
  private readonly logger = new Logger(StytchSessionAuthenticator.name);
  private readonly client: StytchClient;
  private readonly keys: StytchSigningKeys;
  /**
   * Tokens already verified, until their own `exp`: the dashboard sends the same JWT (a 5-minute
   * one) with every call, and an RS256 check costs more than the rest of the request together
   * (bench/RESULTS.md, S4). Keyed by the whole token, signature included.
   */
  private readonly verified = new LRUCache<string, VerifiedSession>({ max: 10_000 });

  constructor(
    config: StytchConfig,
    private readonly organizations: OrganizationsService,
  ) {
    super();
    this.client = new StytchClient({ project_id: config.projectId, secret: config.secret, ...baseUrlOption(config.baseUrl) });
    this.keys = new StytchSigningKeys(this.client.sessionKeySet);
  }

  async authenticate(token: string, requestId: string): Promise<MemberPrincipal> {
    if (token.length > MAX_TOKEN_LENGTH || !JWS_SHAPE.test(token)) throw invalidSession();
    const session = await this.verify(token, requestId);
    // Outside the try of verify(): a database outage here is a 503, not an invalid session.
    const organization = await this.organizations.forStytchOrganization(session.organizationId, session.organizationSlug, requestId);
    return {
      kind: 'member',
      requestId,
      organization,
      memberId: session.memberId,
      organizationSlug: session.organizationSlug,
      roles: session.roles,
      session: { id: session.sessionId, startedAt: session.startedAt, expiresAt: session.expiresAt },
    };
  }

  private async verify(token: string, requestId: string): Promise<VerifiedSession> {
    const known = this.verified.get(token);
    if (known) return known;
    const kid = signingKeyId(token);
    if (kid === null || !(await this.keys.obtain(kid))) {
      this.logger.debug({ request_id: requestId }, 'Session JWT refused: not signed with a key of the Stytch JWKS');
      throw invalidSession();
    }
    let verified: unknown;
    try {
      verified = await this.client.sessions.authenticateJwtLocal({ session_jwt: token });
    } catch (error) {
      // The SDK throws ClientError('jwt_invalid', cause) for bad tokens, and a plain TypeError
      // when the session or organization claim is missing.
      this.logger.debug({ request_id: requestId }, `Session JWT refused (${failureCode(error)})`);
      throw invalidSession();
    }
    const session = readVerifiedSession(verified);
    if (!session) {
      this.logger.debug({ request_id: requestId }, 'Session JWT refused: its claims are incomplete');
      throw invalidSession();
    }
    const ttl = msUntilExpiry(token);
    if (ttl > 0) this.verified.set(token, session, { ttl });
    return session;
  }
}

/**
 * Unset: the SDK picks test or live from the project id. A custom domain goes in `custom_base_url`,
 * which refuses http; a local http JWKS server (tests) can only go in `env`, which takes any URL
 * (the SDK prints a warning for it once).
 */
function baseUrlOption(baseUrl: string | undefined): { custom_base_url?: string; env?: string } {
  if (!baseUrl) return {};
  return baseUrl.startsWith('https://') ? { custom_base_url: baseUrl } : { env: baseUrl };
}

/** Ms until a verified token's `exp` claim (0 when it has none). */
function msUntilExpiry(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { exp?: unknown };
  return typeof payload.exp === 'number' ? payload.exp * 1000 - Date.now() : 0;
}

function invalidSession(): AppError {
  return new AppError('INVALID_SESSION', 'The session token is invalid or expired. Sign in again.');
}
