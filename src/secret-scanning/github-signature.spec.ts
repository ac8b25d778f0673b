import { generateKeyPairSync, sign } from 'node:crypto';
import { isSignedBy, readSignatureHeaders } from './github-signature';

const github = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const body = Buffer.from('[{"token":"luci_x","type":"lucitra_api_key","url":"https://github.com/a","source":"content"}]');
const signed = (bytes: Buffer, key = github.privateKey) => sign('sha256', bytes, key);

describe('isSignedBy', () => {
  it('accepts GitHub\'s DER ECDSA P-256 / SHA-256 signature over the exact bytes', () => {
    expect(isSignedBy(github.publicKey, body, signed(body))).toBe(true);
  });

  it('refuses the same signature over bytes changed by one bit, or re-encoded', () => {
    const flipped = Buffer.from(body);
    flipped[10] ^= 1;
    expect(isSignedBy(github.publicKey, flipped, signed(body))).toBe(false);
    const reencoded = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 1));
    expect(isSignedBy(github.publicKey, reencoded, signed(body))).toBe(false);
  });

  it('refuses a signature by another key, and signatures that are not DER at all, without throwing', () => {
    expect(isSignedBy(github.publicKey, body, signed(body, other.privateKey))).toBe(false);
    expect(isSignedBy(github.publicKey, body, Buffer.alloc(0))).toBe(false);
    expect(isSignedBy(github.publicKey, body, Buffer.from('not a signature at all'))).toBe(false);
    const p1363 = sign('sha256', body, { key: github.privateKey, dsaEncoding: 'ieee-p1363' });
    expect(isSignedBy(github.publicKey, body, p1363)).toBe(false);
  });
});

describe('readSignatureHeaders', () => {
  const signature = signed(body).toString('base64');
  const identifier = 'bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c';

  it('reads both headers, the signature decoded', () => {
    expect(readSignatureHeaders({ 'github-public-key-identifier': identifier, 'github-public-key-signature': signature })).toEqual({
      identifier,
      signature: Buffer.from(signature, 'base64'),
    });
  });

  it.each([
    ['no headers', {}],
    ['no signature', { 'github-public-key-identifier': identifier }],
    ['no identifier', { 'github-public-key-signature': signature }],
    ['an empty identifier', { 'github-public-key-identifier': '', 'github-public-key-signature': signature }],
    ['an identifier of 257 characters', { 'github-public-key-identifier': 'a'.repeat(257), 'github-public-key-signature': signature }],
    ['an identifier with a space', { 'github-public-key-identifier': 'a b', 'github-public-key-signature': signature }],
    ['a signature that is not base64', { 'github-public-key-identifier': identifier, 'github-public-key-signature': '!!!!!!!!!!!!!!!!' }],
    ['a signature far longer than P-256 gives', { 'github-public-key-identifier': identifier, 'github-public-key-signature': 'A'.repeat(200) }],
    ['a header sent twice', { 'github-public-key-identifier': [identifier, identifier], 'github-public-key-signature': signature }],
  ])('is null for %s', (_what, headers) => {
    expect(readSignatureHeaders(headers)).toBeNull();
  });
});
