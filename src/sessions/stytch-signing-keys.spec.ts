import { Logger } from '@nestjs/common';
import { RemoteKeySet, StytchSigningKeys, signingKeyId } from './stytch-signing-keys';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
let now = Date.parse('2026-11-28T12:00:00Z');

/** jose's remote JWK set as the SDK builds it: 10-minute cache, a download on reload(). */
class FakeKeySet implements RemoteKeySet {
  downloads = 0;
  failing = false;
  published: Array<Record<string, unknown>> = [rsaKey('kid-1')];
  private held: Array<Record<string, unknown>> | undefined;
  private downloadedAt: number | undefined;

  get fresh(): boolean {
    return this.downloadedAt !== undefined && now < this.downloadedAt + 10 * MINUTE;
  }

  async reload(): Promise<void> {
    this.downloads += 1;
    await new Promise((resolve) => setImmediate(resolve)); // a round trip: callers arrive meanwhile
    if (this.failing) throw Object.assign(new Error('Expected 200 OK from the JSON Web Key Set HTTP response'), { code: 'ERR_JOSE_GENERIC' });
    this.held = structuredClone(this.published);
    this.downloadedAt = now;
  }

  jwks() {
    return this.held && { keys: structuredClone(this.held) };
  }
}

function rsaKey(kid: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { kid, kty: 'RSA', alg: 'RS256', use: 'sig', n: 'AQAB', e: 'AQAB', ...extra };
}

const inventedKids = (count: number) => Array.from({ length: count }, (_, i) => `kid-invented-${now}-${i}`);

describe('StytchSigningKeys', () => {
  let keySet: FakeKeySet;
  let sut: StytchSigningKeys;
  const obtainAll = (kids: string[]) => Promise.all(kids.map((kid) => sut.obtain(kid)));

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    keySet = new FakeKeySet();
    sut = new StytchSigningKeys(keySet);
  });
  afterEach(() => jest.restoreAllMocks());

  it('downloads once for the first tokens arriving together, then verifies offline', async () => {
    expect(await obtainAll(Array(20).fill('kid-1'))).toEqual(Array(20).fill(true));
    expect(keySet.downloads).toBe(1);
    now += 5 * MINUTE;
    expect(await sut.obtain('kid-1')).toBe(true);
    expect(keySet.downloads).toBe(1);
  });

  it('refuses invented kids without a download for 30 s after the last one, then allows one', async () => {
    await sut.obtain('kid-1');
    expect(await obtainAll(inventedKids(20))).toEqual(Array(20).fill(false));
    expect(keySet.downloads).toBe(1);
    now += 30 * SECOND;
    expect(await obtainAll(inventedKids(20))).toEqual(Array(20).fill(false));
    expect(keySet.downloads).toBe(2);
    expect(await obtainAll(inventedKids(20))).toEqual(Array(20).fill(false));
    expect(keySet.downloads).toBe(2);
  });

  it('while the JWKS fails: one download per period, the period doubling up to 5 minutes', async () => {
    await sut.obtain('kid-1');
    keySet.failing = true;
    const periods = [30 * SECOND, 30 * SECOND, MINUTE, 2 * MINUTE, 4 * MINUTE, 5 * MINUTE, 5 * MINUTE];
    for (const [index, period] of periods.entries()) {
      now += period;
      expect(await obtainAll(inventedKids(20))).toEqual(Array(20).fill(false));
      expect(keySet.downloads).toBe(index + 2);
      now += period - 1; // just short of the next period
      expect(await obtainAll(inventedKids(20))).toEqual(Array(20).fill(false));
      now += 1 - period;
      expect(keySet.downloads).toBe(index + 2);
    }
  });

  it('keeps verifying the kids it holds during the backoff, until the SDK would download again', async () => {
    await sut.obtain('kid-1');
    keySet.failing = true;
    now += 30 * SECOND;
    await sut.obtain('kid-invented');
    expect(keySet.downloads).toBe(2);
    for (const step of [10 * SECOND, 2 * MINUTE, 6 * MINUTE]) {
      now += step;
      expect(await sut.obtain('kid-1')).toBe(true);
    }
    expect(keySet.downloads).toBe(2);
    // past 9.5 minutes after the last good download it must be downloaded again, which fails
    now += 60 * SECOND;
    expect(await obtainAll(Array(20).fill('kid-1'))).toEqual(Array(20).fill(false));
    expect(keySet.downloads).toBe(3);
  });

  it('picks up a rotated key once the JWKS answers again, and forgets the failures', async () => {
    await sut.obtain('kid-1');
    keySet.failing = true;
    now += 30 * SECOND;
    await sut.obtain('kid-2');
    now += 30 * SECOND;
    await sut.obtain('kid-2'); // second failure: the next attempt after 1 minute
    expect(keySet.downloads).toBe(3);
    keySet.failing = false;
    keySet.published = [rsaKey('kid-2'), rsaKey('kid-1')];
    now += 59 * SECOND;
    expect(await sut.obtain('kid-2')).toBe(false);
    now += 1 * SECOND;
    expect(await sut.obtain('kid-2')).toBe(true);
    expect(await sut.obtain('kid-1')).toBe(true);
    expect(keySet.downloads).toBe(4);
    keySet.failing = true;
    now += 30 * SECOND;
    await sut.obtain('kid-3');
    now += 30 * SECOND;
    await sut.obtain('kid-3');
    expect(keySet.downloads).toBe(6); // back to 30 s after a failure
  });

  it('counts only keys the SDK would pick for an RS256 token', async () => {
    keySet.published = [
      rsaKey('kid-rs256'),
      rsaKey('kid-no-alg', { alg: undefined }),
      rsaKey('kid-rs384', { alg: 'RS384' }),
      rsaKey('kid-enc', { use: 'enc' }),
      rsaKey('kid-ops', { key_ops: ['encrypt'] }),
      { kid: 'kid-ec', kty: 'EC', alg: 'ES256', crv: 'P-256' },
    ];
    await sut.obtain('kid-rs256');
    expect(['kid-rs256', 'kid-no-alg', 'kid-rs384', 'kid-enc', 'kid-ops', 'kid-ec'].map((kid) => sut.holds(kid))).toEqual([true, true, false, false, false, false]);
  });
});

describe('signingKeyId', () => {
  const token = (header: unknown) => `${Buffer.from(typeof header === 'string' ? header : JSON.stringify(header)).toString('base64url')}.e30.c2ln`;

  it('reads the kid of an RS256 header', () => {
    expect(signingKeyId(token({ alg: 'RS256', kid: 'jwk-live-1', typ: 'JWT' }))).toBe('jwk-live-1');
  });

  it.each([
    ['another algorithm', token({ alg: 'HS256', kid: 'jwk-live-1' })],
    ['alg none', token({ alg: 'none', kid: 'jwk-live-1' })],
    ['no kid', token({ alg: 'RS256' })],
    ['an empty kid', token({ alg: 'RS256', kid: '' })],
    ['a kid that is not text', token({ alg: 'RS256', kid: ['jwk-live-1'] })],
    ['a kid of 129 characters', token({ alg: 'RS256', kid: 'k'.repeat(129) })],
    ['a header over 512 characters', token({ alg: 'RS256', kid: 'jwk-live-1', pad: 'x'.repeat(400) })],
    ['a header that is not JSON', token('{"alg":"RS256",')],
    ['a header that is JSON but no object', token('null')],
    ['a header that is not base64url', '!!!.e30.c2ln'],
    ['no header', '.e30.c2ln'],
  ])('returns null for %s, without throwing', (_name, value) => {
    expect(signingKeyId(value)).toBeNull();
  });
});
