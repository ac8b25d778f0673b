import { Webhook } from 'standardwebhooks';
import { generateSigningSecret, sign, signatureHeader } from './webhook-signer';

describe('webhook signer', () => {
  // The vector of the Standard Webhooks specification's reference libraries.
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const timestamp = 1614265330;
  const body = '{"test": 2432232314}';

  it('signs the specification vector', () => {
    expect(sign(secret, id, timestamp, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('gives one space-separated signature per secret, each verifying on its own', () => {
    const fresh = generateSigningSecret();
    const header = signatureHeader([fresh, secret], id, timestamp, body);
    expect(header.split(' ')).toEqual([sign(fresh, id, timestamp, body), sign(secret, id, timestamp, body)]);
    const now = Math.floor(Date.now() / 1000);
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(now), 'webhook-signature': signatureHeader([fresh, secret], id, now, body) };
    expect(new Webhook(fresh).verify(body, headers)).toEqual({ test: 2432232314 });
    expect(new Webhook(secret).verify(body, headers)).toEqual({ test: 2432232314 });
  });

  it('makes whsec_ secrets of 24 random bytes', () => {
    const made = generateSigningSecret();
    expect(made).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(generateSigningSecret()).not.toBe(made);
  });
});
