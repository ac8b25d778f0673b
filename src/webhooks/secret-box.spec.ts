import { randomBytes } from 'node:crypto';
import { SecretBox } from './secret-box';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

  it('opens what it sealed, and never shows the secret sealed', () => {
    const sealed = box.seal(secret, 'whk_1');
    expect(sealed).toMatch(/^v1:/);
    expect(sealed).not.toContain('MfKQ9r8G');
    expect(box.open(sealed, 'whk_1')).toBe(secret);
    expect(box.seal(secret, 'whk_1')).not.toBe(sealed); // a fresh IV each time
  });

  it('refuses another key, another endpoint and an altered text', () => {
    const sealed = box.seal(secret, 'whk_1');
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'whk_1')).toThrow();
    expect(() => box.open(sealed, 'whk_2')).toThrow();
    const bytes = Buffer.from(sealed.slice(3), 'base64');
    bytes[bytes.length - 1] ^= 1;
    expect(() => box.open(`v1:${bytes.toString('base64')}`, 'whk_1')).toThrow();
  });
});
