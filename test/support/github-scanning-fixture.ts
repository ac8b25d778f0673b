import { KeyObject, createHash, generateKeyPairSync, sign } from 'node:crypto';
import { Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

interface SigningKey {
  identifier: string;
  privateKey: KeyObject;
  publicPem: string;
}

function newSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  // GitHub's identifiers are the SHA-256 of the key, in hex.
  return { identifier: createHash('sha256').update(publicPem).digest('hex'), privateKey, publicPem };
}

export interface SignOptions {
  /** Sent as the identifier instead of the published key's. */
  identifier?: string;
  /** Signed with a key GitHub never published, under the published key's identifier. */
  byOutsider?: boolean;
}

/**
 * A stand-in for GitHub's secret-scanning key document (`GITHUB_SECRET_SCANNING_KEYS_URL`) and its
 * report signer: P-256 keys made here with node:crypto, served as GitHub serves them.
 */
export class GithubScanningFixture {
  /** How many times the key document was asked for (answered or not). */
  hits = 0;
  /** While true the document answers 503, as in an outage. */
  failing = false;
  private readonly published = newSigningKey();
  private readonly outsider = newSigningKey();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<GithubScanningFixture> {
    const server = createServer();
    const fixture = new GithubScanningFixture(server);
    server.on('request', (request, response) => {
      if (request.method !== 'GET' || request.url !== '/meta/public_keys/secret_scanning') return void response.writeHead(404).end();
      fixture.hits += 1;
      if (fixture.failing) return void response.writeHead(503, { 'content-type': 'application/json' }).end('{"message":"unavailable"}');
      const { identifier, publicPem } = fixture.published;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ public_keys: [{ key_identifier: identifier, key: publicPem, is_current: true }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fixture;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/meta/public_keys/secret_scanning`;
  }

  /** The two headers GitHub sends with `body`. */
  headers(body: string | Buffer, options: SignOptions = {}): Record<string, string> {
    const key = options.byOutsider ? this.outsider : this.published;
    return {
      'Github-Public-Key-Identifier': options.identifier ?? this.published.identifier,
      'Github-Public-Key-Signature': sign('sha256', Buffer.from(body), key.privateKey).toString('base64'),
      'Content-Type': 'application/json',
    };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
