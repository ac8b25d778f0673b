import { generateKey } from '../api-keys/key-format';
import { MAX_LOGGED_URL_LENGTH, loggableUrl, redactCredentials } from './redact';
import { callerRequestId } from './request-id';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtZW1iZXIifQ.c2lnbmF0dXJl';
/** Percent-encodes every character. */
const encodeAll = (text: string, lower = false) =>
  [...text].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).map((e) => (lower ? e : e.toUpperCase())).join('');

describe('redactCredentials', () => {
  const key = generateKey().secret;
  const rest = key.slice('luci_'.length);

  it('hides API keys, percent-encoded or not, and session JWTs; leaves the rest of the URL', () => {
    expect(redactCredentials(`/v1/organization?api_key=luci_abcDEF123&token=${JWT}&x=luci%5Fabc9&page=2`)).toBe(
      '/v1/organization?api_key=luci_[REDACTED]&token=eyJ[REDACTED]&x=luci_[REDACTED]&page=2',
    );
    expect(redactCredentials('/v1/datasets/ds_0193?limit=20&cursor=ds_0193')).toBe('/v1/datasets/ds_0193?limit=20&cursor=ds_0193');
  });

  it.each([
    ['as is', key],
    ['in capitals', key.toUpperCase()],
    ['in mixed case', `LuCi_${rest}`],
    ['with an encoded first letter', `%6cuci_${rest}`],
    ['with an encoded underscore, lower-case hex', `luci%5f${rest}`],
    ['with an encoded underscore, upper-case hex', `luci%5F${rest}`],
    ['with an encoded prefix in capitals', `%4C%55%43%49%5F${rest}`],
    ['entirely encoded', encodeAll(key)],
    ['entirely encoded, lower-case hex', encodeAll(key, true)],
    ['encoded twice', `%256cuci_${rest}`],
    ['encoded three times', `%25256c%252575ci_${rest}`],
    ['encoded twice, entirely', encodeAll(encodeAll(key))],
  ])('hides an API key %s, wherever it is in the URL', (_name, written) => {
    for (const url of [`/v1/organization?api_key=${written}`, `/v1/datasets/${written}`, `/nope?a=1&k=${written}#x`, `/x;k=${written},y`]) {
      const redacted = redactCredentials(url);
      expect(redacted).toContain('luci_[REDACTED]');
      expect(redacted).not.toContain(rest.slice(0, 8));
      expect(redacted.toLowerCase()).not.toContain(rest.slice(-8).toLowerCase());
    }
  });

  it('hides a key inside a longer piece: after an encoded delimiter, a scheme or a label', () => {
    for (const piece of [`foo%3D${key}`, `Bearer:${key}`, `key-${key}`, `Bearer%20${key}`, `x%26k%3D%6cuci_${rest}`]) {
      expect(redactCredentials(`/v1/organization?q=${piece}&page=2`)).toBe('/v1/organization?q=[REDACTED]&page=2');
    }
    // split at a space or its `+` spelling, each piece is judged alone
    expect(redactCredentials(`/x?q=Bearer+${key}`)).toBe('/x?q=Bearer+luci_[REDACTED]');
  });

  it('hides a piece still encoded after four rounds of decoding, whole', () => {
    let fiveTimes = key;
    for (let i = 0; i < 5; i += 1) fiveTimes = encodeURIComponent(fiveTimes).replace(/_/g, '%5F');
    expect(redactCredentials(`/x?k=${fiveTimes}&page=2`)).toBe('/x?k=[REDACTED]&page=2');
  });

  it('hides session JWTs, percent-encoded or behind a scheme', () => {
    for (const written of [JWT, `%65yJ${JWT.slice(3)}`, encodeAll(JWT), `Bearer%20${JWT}`, JWT.replace(/\./g, '%2E')]) {
      expect(redactCredentials(`/v1/session?token=${written}&page=2`)).toBe('/v1/session?token=eyJ[REDACTED]&page=2');
    }
  });

  it('leaves pieces that merely contain the letters', () => {
    for (const url of ['/heyJude.v1.mp3', '/v1/datasets?name=lucid&q=eyJ', '/v1/datasets?q=my_luci_set', '/v1/x?q=%41%42&r=%zz%4', '/eyJhbGci']) {
      expect(redactCredentials(url)).toBe(url);
    }
  });

  it('never throws on malformed escapes', () => {
    for (const url of ['/%', '/%%%', '/%E0%A4%A', '/%uD800', `/x?k=%6cuci_${rest}%`, '/%zz/luci_%']) {
      expect(() => redactCredentials(url)).not.toThrow();
    }
    expect(redactCredentials(`/x?k=%6cuci_${rest}%`)).toBe('/x?k=luci_[REDACTED]');
  });

  // Pathological inputs: each is handled in one pass (no backtracking, a bounded number of
  // decoding rounds); the output is exact. Compared by value, not printed, when they differ.
  it.each([
    ['eyJ repeated, no dot', `/nope?a=${'eyJ'.repeat(34_000)}`, `/nope?a=${'eyJ'.repeat(34_000)}`],
    ['eyJ repeated, then one dot', `/nope?a=${'eyJ'.repeat(34_000)}.`, `/nope?a=${'eyJ'.repeat(34_000)}.`],
    ['eyJ and a dot, repeated', `/nope?a=${'eyJ.'.repeat(25_000)}`, '/nope?a=eyJ[REDACTED]'],
    ['luci_ repeated', `/nope?a=${'luci_'.repeat(20_000)}`, '/nope?a=luci_[REDACTED]'],
    ['one escape nested 50,000 deep', `/nope?a=%${'25'.repeat(50_000)}6c`, '/nope?a=[REDACTED]'],
    ['escaped percent signs', `/nope?a=${'%25'.repeat(34_000)}`, `/nope?a=${'%25'.repeat(34_000)}`],
    ['bare percent signs', `/nope?a=${'%'.repeat(100_000)}`, `/nope?a=${'%'.repeat(100_000)}`],
    ['short pieces', `/nope?${'a=eyJ&'.repeat(17_000)}`, `/nope?${'a=eyJ&'.repeat(17_000)}`],
    ['slashes', `/${'/'.repeat(100_000)}luci`, `/${'/'.repeat(100_000)}luci`],
  ])('handles 100 KB of %s with the right answer', (_name, input, expected) => {
    expect(input.length).toBeGreaterThanOrEqual(100_000);
    const output = redactCredentials(input);
    expect({ length: output.length, same: output === expected }).toEqual({ length: expected.length, same: true });
  });

  it('hides each of a thousand keys in one URL', () => {
    expect(redactCredentials(`/nope?${`k=${key}&`.repeat(1000)}`)).toBe(`/nope?${'k=luci_[REDACTED]&'.repeat(1000)}`);
  });
});

describe('loggableUrl', () => {
  it('keeps a URL of up to 2,048 characters whole', () => {
    const url = `/v1/datasets?q=${'a'.repeat(MAX_LOGGED_URL_LENGTH - 15)}`;
    expect(url).toHaveLength(MAX_LOGGED_URL_LENGTH);
    expect(loggableUrl(url)).toBe(url);
  });

  it('cuts a longer one after its last delimiter within the limit, saying how much was left out', () => {
    const crafted = `/nope?a=${'eyJ'.repeat(5300)}`;
    expect(loggableUrl(crafted)).toBe(`/nope?a=…[truncated ${crafted.length - 8} chars]`);
    const long = `/v1/datasets?${'page=2&'.repeat(400)}`;
    const logged = loggableUrl(long);
    const kept = logged.slice(0, logged.indexOf('…'));
    expect(kept.length).toBeLessThanOrEqual(MAX_LOGGED_URL_LENGTH);
    expect(kept).toMatch(/[&=]$/);
    expect(kept.length).toBeGreaterThan(MAX_LOGGED_URL_LENGTH - 7);
    expect(logged).toBe(`${kept}…[truncated ${long.length - kept.length} chars]`);
  });

  it('shows no part of a key across the cut, and redacts the part it keeps', () => {
    const [first, second] = [generateKey().secret, generateKey().secret];
    const url = `/x?a=%6c${first.slice(1)}&q=${'a'.repeat(MAX_LOGGED_URL_LENGTH - 60)}&k=${second}&more=${'b'.repeat(100)}`;
    const logged = loggableUrl(url);
    expect(logged.startsWith('/x?a=luci_[REDACTED]&q=aaa')).toBe(true);
    expect(logged).toMatch(/a&k=…\[truncated \d+ chars\]$/);
    for (const key of [first, second]) expect(logged).not.toContain(key.slice(5, 10));
  });
});

describe('callerRequestId', () => {
  it('keeps a caller id that looks like an id, and drops one that is a credential', () => {
    expect(callerRequestId('trace-1234.abc:9')).toBe('trace-1234.abc:9');
    expect(callerRequestId('luci_abcDEF123')).toBeUndefined();
    expect(callerRequestId('LUCI_ABCDEF123')).toBeUndefined();
    expect(callerRequestId(`trace:${generateKey().secret}`)).toBeUndefined();
    expect(callerRequestId('eyJhbGci.eyJzdWIi.c2ln')).toBeUndefined();
    expect(callerRequestId('has spaces')).toBeUndefined();
    expect(callerRequestId(['a', 'b'])).toBeUndefined();
  });
});
