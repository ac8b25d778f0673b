import { randomUUID } from 'node:crypto';
import { Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CryptoKey, SignJWT, exportJWK, generateKeyPair } from 'jose';

/**
 * Stytch's JWKS endpoint and session-JWT signer, locally — the approach of
 * test/support/stytch-fixture.ts (served at `/v1/b2b/sessions/jwks/{project_id}`, RS256 tokens
 * carrying Stytch's session and organization claims), without its jest helpers, so the bench
 * runs outside jest. The service reaches it through STYTCH_BASE_URL.
 */
export class LocalJwks {
  /** JWKS downloads: the service should fetch once and cache. */
  hits = 0;

  private constructor(
    readonly projectId: string,
    private readonly server: Server,
    private readonly kid: string,
    private readonly privateKey: CryptoKey,
  ) {}

  static async start(): Promise<LocalJwks> {
    const projectId = `project-test-${randomUUID()}`;
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = `jwk-test-${randomUUID()}`;
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
    const server = createServer();
    const jwks = new LocalJwks(projectId, server, kid, privateKey);
    const body = JSON.stringify({ keys: [jwk] });
    server.on('request', (request, response) => {
      if (request.method === 'GET' && request.url === `/v1/b2b/sessions/jwks/${projectId}`) {
        jwks.hits += 1;
        response.writeHead(200, { 'content-type': 'application/json' }).end(body);
      } else {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return jwks;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** A member's session JWT for a Stytch organization, valid for `lifetimeSeconds`. */
  async mint(member: { memberId: string; stytchOrganizationId: string; slug: string }, lifetimeSeconds: number): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
    return new SignJWT({
      'https://stytch.com/session': {
        id: `member-session-test-${randomUUID()}`,
        started_at: iso(now - 60),
        last_accessed_at: iso(now),
        expires_at: iso(now + lifetimeSeconds),
        attributes: { ip_address: '', user_agent: '' },
        authentication_factors: [{ type: 'magic_link', delivery_method: 'email', last_authenticated_at: iso(now) }],
        roles: ['stytch_member'],
      },
      'https://stytch.com/organization': { organization_id: member.stytchOrganizationId, slug: member.slug },
    })
      .setProtectedHeader({ alg: 'RS256', kid: this.kid, typ: 'JWT' })
      .setAudience([this.projectId])
      .setIssuer(`stytch.com/${this.projectId}`)
      .setSubject(member.memberId)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + lifetimeSeconds)
      .sign(this.privateKey);
  }

  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections(); // the service's keep-alive socket would hold close() open
    return closed;
  }
}
