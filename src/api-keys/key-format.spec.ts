import { KEY_LENGTH, generateKey, hashKey, isWellFormedKey } from './key-format';

describe('API key format', () => {
  it('generates luci_ keys of base62 characters with at least 160 bits of randomness', () => {
    const sut = generateKey();
    expect(sut.secret).toMatch(/^luci_[A-Za-z0-9]{38}$/);
    expect(sut.secret).toHaveLength(KEY_LENGTH);
    // 32 random base62 characters carry 32·log2(62) ≈ 190.5 bits
    expect(32 * Math.log2(62)).toBeGreaterThanOrEqual(160);
    expect(sut.start).toBe(sut.secret.slice(0, 9));
    expect(sut.hash).toBe(hashKey(sut.secret));
    expect(sut.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('never repeats a key', () => {
    const secrets = new Set(Array.from({ length: 2000 }, () => generateKey().secret));
    expect(secrets.size).toBe(2000);
  });

  it('uses the whole alphabet roughly uniformly', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      for (const char of generateKey().secret.slice(5, 37)) counts.set(char, (counts.get(char) ?? 0) + 1);
    }
    expect(counts.size).toBe(62);
    const expected = (2000 * 32) / 62;
    for (const count of counts.values()) expect(Math.abs(count - expected) / expected).toBeLessThan(0.2);
  });

  it('accepts the keys it generates', () => {
    for (let i = 0; i < 100; i++) expect(isWellFormedKey(generateKey().secret)).toBe(true);
  });

  it('rejects a key with any single character changed (checksum)', () => {
    const { secret } = generateKey();
    for (let i = 5; i < secret.length; i++) {
      const replacement = secret[i] === 'a' ? 'b' : 'a';
      expect(isWellFormedKey(secret.slice(0, i) + replacement + secret.slice(i + 1))).toBe(false);
    }
  });

  it('rejects wrong prefixes, lengths and characters', () => {
    const { secret } = generateKey();
    expect(isWellFormedKey(secret.slice(0, -1))).toBe(false);
    expect(isWellFormedKey(`${secret}a`)).toBe(false);
    expect(isWellFormedKey(`LUCI_${secret.slice(5)}`)).toBe(false);
    expect(isWellFormedKey(`luci-${secret.slice(5)}`)).toBe(false);
    expect(isWellFormedKey(`${secret.slice(0, 10)}é${secret.slice(11)}`)).toBe(false);
    expect(isWellFormedKey('luci_')).toBe(false);
    expect(isWellFormedKey('')).toBe(false);
  });
});
