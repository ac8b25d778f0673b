import { generateKeyPairSync } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { loadConfig } from '../config/load-config';
import { GithubPublicKeys, parseKeyDocument } from './github-public-keys';

const pemOf = (curve: string) =>
  generateKeyPairSync('ec', { namedCurve: curve }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const rsaPem = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const document = (...keys: Array<[string, string]>) =>
  JSON.stringify({ public_keys: keys.map(([key_identifier, key]) => ({ key_identifier, key, is_current: true })) });

describe('parseKeyDocument', () => {
  it('keeps the P-256 keys by identifier and skips anything else', () => {
    const keys = parseKeyDocument(
      document(['good', pemOf('prime256v1')], ['p384', pemOf('secp384r1')], ['rsa', rsaPem], ['junk', 'not a pem'], ['', pemOf('prime256v1')]),
    );
    expect([...keys.keys()]).toEqual(['good']);
  });

  it.each([['not JSON', '{'], ['no public_keys', '{}'], ['no usable key', document(['rsa', rsaPem])], ['null', 'null']])(
    'fails on %s (the keys held before stay)',
    (_what, text) => {
      expect(() => parseKeyDocument(text)).toThrow();
    },
  );
});

describe('GithubPublicKeys', () => {
  let now = Date.parse('2026-11-30T12:00:00Z');
  let served = document(['k1', pemOf('prime256v1')]);
  let failing = false;
  let downloads = 0;
  let sut: GithubPublicKeys;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    downloads = 0;
    failing = false;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    jest.spyOn(global, 'fetch').mockImplementation(async () => {
      downloads += 1;
      return failing ? new Response('{}', { status: 503 }) : new Response(served, { status: 200 });
    });
    sut = new GithubPublicKeys(loadConfig({}));
  });
  afterEach(() => jest.restoreAllMocks());

  it('downloads once, then verifies from memory', async () => {
    expect('key' in (await sut.lookup('k1'))).toBe(true);
    expect('key' in (await sut.lookup('k1'))).toBe(true);
    expect(downloads).toBe(1);
  });

  it('answers an unknown identifier with at most one download per 30 s, and picks up a new key after it', async () => {
    await sut.lookup('k1');
    const lookups = await Promise.all(Array.from({ length: 10 }, (_, n) => sut.lookup(`invented-${n}`)));
    expect(lookups.every((lookup) => 'problem' in lookup && lookup.problem === 'unknown')).toBe(true);
    expect(downloads).toBe(1);
    served = document(['k1', pemOf('prime256v1')], ['k2', pemOf('prime256v1')]);
    expect(await sut.lookup('k2')).toEqual({ problem: 'unknown' });
    now += 30_000;
    expect('key' in (await sut.lookup('k2'))).toBe(true);
    expect(downloads).toBe(2);
  });

  it('is unavailable (retryable) while no document could be had, backing off; keeps held keys through an outage', async () => {
    failing = true;
    expect(await sut.lookup('k1')).toEqual({ problem: 'unavailable' });
    expect(await sut.lookup('k1')).toEqual({ problem: 'unavailable' });
    expect(downloads).toBe(1);
    failing = false;
    now += 30_000;
    expect('key' in (await sut.lookup('k1'))).toBe(true);
    failing = true;
    now += 61 * 60_000; // due for a refresh, which fails: the key held still verifies
    expect('key' in (await sut.lookup('k1'))).toBe(true);
    expect(await sut.lookup('unknown-while-down')).toEqual({ problem: 'unavailable' });
    now += 24 * 60 * 60_000; // a day without a good download: nothing is trusted
    expect(await sut.lookup('k1')).toEqual({ problem: 'unavailable' });
  });
});
