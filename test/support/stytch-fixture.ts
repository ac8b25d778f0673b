import { randomUUID } from 'node:crypto';
import { Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CryptoKey, JWK, SignJWT, UnsecuredJWT, exportJWK, generateKeyPair } from 'jose';
import type { StytchConfig } from '../../src/config/app-config';

export interface MintOptions {
  memberId?: string;
  organizationId?: string;
  slug?: string;
  roles?: string[];
  /** Lifetime of the JWT from now; negative gives an expired token. Stytch uses 5 minutes. */
  expiresInSeconds?: number;
  audience?: string;
  issuer?: string;
  /** Signed by a key the JWKS does not hold, under the current kid: the signature does not verify. */
  forgedSignature?: boolean;
  /** Signed by a key the JWKS does not hold, under a kid it has never served. */
  unknownKid?: boolean;
  /** With `unknownKid`: this kid instead of the outsider key's own. */
  kid?: string;
  /** `alg: "none"`, no signature. */
  unsigned?: boolean;
  /** Claims to leave out of the payload. */
  omit?: Array<'sub' | 'session' | 'organization' | 'roles' | 'slug'>;
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

const SESSION_CLAIM = 'https://stytch.com/session';
const ORGANIZATION_CLAIM = 'https://stytch.com/organization';

/**
 * A stand-in for Stytch's JWKS endpoint and its session-JWT signer, for offline tests: the app's
 * real Stytch SDK fetches keys from here (`STYTCH_BASE_URL`) and verifies tokens minted here.
 */
export class StytchFixture {
  /** How many times the JWKS was asked for (answered or not). */
  hits = 0;
  /** While true the JWKS endpoint answers 503, as Stytch's would in an outage. */
  failing = false;

  private constructor(
    readonly projectId: string,
    private readonly server: Server,
    private keys: SigningKey[],
    /** A key the JWKS never serves. */
    private readonly outsider: SigningKey,
  ) {}

  static async start(): Promise<StytchFixture> {
    const projectId = `project-test-${randomUUID()}`;
    const server = createServer();
    const fixture = new StytchFixture(projectId, server, [await newSigningKey()], await newSigningKey());
    server.on('request', (request, response) => {
      if (request.method === 'GET' && request.url === `/v1/b2b/sessions/jwks/${projectId}`) {
        fixture.hits += 1;
        if (fixture.failing) {
          response.writeHead(503, { 'content-type': 'application/json' }).end('{"status_code":503}');
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ keys: fixture.keys.map((key) => key.publicJwk) }));
      } else {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fixture;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The app's `stytch` config pointing at this fixture. */
  get config(): StytchConfig {
    return { projectId: this.projectId, secret: 'secret-test-fixture', baseUrl: this.url };
  }

  /** Stytch's key rotation: a new signing key is published beside the old one and signs from now on. */
  async rotate(): Promise<void> {
    this.keys = [await newSigningKey(), ...this.keys];
  }

  async mint(options: MintOptions = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const omit = new Set(options.omit ?? []);
    const session: Record<string, unknown> = {
      id: `member-session-test-${randomUUID()}`,
      started_at: new Date((now - 60) * 1000).toISOString(),
      last_accessed_at: new Date(now * 1000).toISOString(),
      expires_at: new Date((now + 3600) * 1000).toISOString(),
      attributes: { ip_address: '', user_agent: '' },
      authentication_factors: [{ type: 'magic_link', delivery_method: 'email', last_authenticated_at: new Date(now * 1000).toISOString() }],
      roles: options.roles ?? ['stytch_member'],
    };
    if (omit.has('roles')) delete session.roles;
    const organization: Record<string, unknown> = {
      organization_id: options.organizationId ?? `organization-test-${randomUUID()}`,
      slug: options.slug ?? 'acme',
    };
    if (omit.has('slug')) delete organization.slug;
    const payload: Record<string, unknown> = {
      aud: [options.audience ?? this.projectId],
      iss: options.issuer ?? `stytch.com/${this.projectId}`,
      sub: options.memberId ?? `member-test-${randomUUID()}`,
      iat: now,
      nbf: now,
      exp: now + (options.expiresInSeconds ?? 300),
      [SESSION_CLAIM]: session,
      [ORGANIZATION_CLAIM]: organization,
    };
    if (omit.has('sub')) delete payload.sub;
    if (omit.has('session')) delete payload[SESSION_CLAIM];
    if (omit.has('organization')) delete payload[ORGANIZATION_CLAIM];

    if (options.unsigned) return new UnsecuredJWT(payload).encode();
    const current = this.keys[0];
    const kid = options.unknownKid ? (options.kid ?? this.outsider.kid) : current.kid;
    const key = options.forgedSignature || options.unknownKid ? this.outsider : current;
    return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(key.privateKey);
  }

  /** Every kind of token that must be refused with 401 INVALID_SESSION, by name. */
  async badTokens(): Promise<Array<[string, string]>> {
    const claims = ['sub', 'session', 'organization', 'roles', 'slug'] as const;
    const missing = await Promise.all(claims.map(async (claim): Promise<[string, string]> => [`without the ${claim} claim`, await this.mint({ omit: [claim] })]));
    return [
      ['expired', await this.mint({ expiresInSeconds: -10 })],
      ['with a forged signature', await this.mint({ forgedSignature: true })],
      ['signed by an unknown key', await this.mint({ unknownKid: true })],
      ['for another audience', await this.mint({ audience: 'project-test-someone-else' })],
      ['from another issuer', await this.mint({ issuer: 'stytch.com/project-test-someone-else' })],
      ['with alg none', await this.mint({ unsigned: true })],
      ['with alg none and a junk signature', `${await this.mint({ unsigned: true })}c2lnbmF0dXJl`],
      ['with a tampered payload', tamper(await this.mint())],
      ...missing,
      ['garbage', 'not-a-jwt'],
      ['three junk segments', 'abc.def.ghi'],
      ['10 KB of junk', `${'a'.repeat(5000)}.${'b'.repeat(5000)}.c`],
    ];
  }

  close(): Promise<void> {
    const closed = new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
    this.server.closeAllConnections(); // the SDK's keep-alive sockets would hold close() open
    return closed;
  }
}

/**
 * The SDK warns on the console for every client whose base URL is not Stytch's own — always the
 * case with this fixture. Hides exactly that warning for the calling spec file.
 */
export function hideStytchBaseUrlWarning(): void {
  const warn = console.warn.bind(console);
  jest.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
    if (!String(args[0]).startsWith("[Stytch] Warning: Using a custom 'env' value")) warn(...args);
  });
}

async function newSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `jwk-test-${randomUUID()}`;
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

/** Swaps in another member id after signing: the signature no longer covers the payload. */
function tamper(token: string): string {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'member-test-someone-else' })).toString('base64url');
  return [header, forged, signature].join('.');
}
