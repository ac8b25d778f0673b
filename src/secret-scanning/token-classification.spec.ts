import { crc32 } from 'node:zlib';
import { generateKey, hashKey } from '../api-keys/key-format';
import { labelOf, lookupHash, plannedAction, standingOf } from './token-classification';
import type { ApiKey } from '../generated/prisma/client';

const now = new Date('2026-11-30T12:00:00Z');
const minute = 60_000;

describe('lookupHash', () => {
  it('is the stored hash of a key we could have issued', () => {
    const { secret, hash } = generateKey();
    expect(lookupHash(secret)).toBe(hash);
  });

  it('is null — no lookup — for a wrong checksum, length, prefix or alphabet', () => {
    const { secret } = generateKey();
    const lastChanged = secret.slice(0, -1) + (secret.endsWith('0') ? '1' : '0');
    for (const token of [lastChanged, secret.slice(0, -1), `${secret}0`, `LUCI_${secret.slice(5)}`, `${secret.slice(0, 10)}-${secret.slice(11)}`, '', 'ghp_abc']) {
      expect({ token, hash: lookupHash(token) }).toEqual({ token, hash: null });
    }
  });

  it('is the hash answered to GitHub too (token_hash): SHA-256 hex', () => {
    const { secret } = generateKey();
    expect(lookupHash(secret)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashKey(secret)).toBe(lookupHash(secret));
  });
});

describe('labelOf', () => {
  it('labels any key we issued true_positive, anything else false_positive', () => {
    expect(labelOf({} as ApiKey)).toBe('true_positive');
    expect(labelOf(undefined)).toBe('false_positive');
  });
});

describe('standingOf', () => {
  const at = (offset: number | null) => (offset === null ? null : new Date(now.getTime() + offset));

  it.each([
    ['live: never revoked, no expiry', null, null, 'live'],
    ['live: in a rotation\'s grace period (revocation scheduled later)', minute, null, 'live'],
    ['live: expires later', null, minute, 'live'],
    ['revoked', -minute, null, 'revoked'],
    ['revoked at this very moment', 0, null, 'revoked'],
    ['expired', null, -minute, 'expired'],
    ['revoked and expired: revoked', -minute, -minute, 'revoked'],
  ] as const)('%s', (_what, revoked, expires, standing) => {
    expect(standingOf({ revokedAt: at(revoked), expiresAt: at(expires) }, now)).toBe(standing);
  });
});

describe('plannedAction', () => {
  it('revokes a live key unless the organization chose notify; leaves revoked and expired keys as they are', () => {
    expect(plannedAction('live', 'revoke')).toBe('revoke');
    expect(plannedAction('live', 'notify')).toBe('notified');
    for (const choice of ['revoke', 'notify'] as const) {
      expect(plannedAction('revoked', choice)).toBe('already_revoked');
      expect(plannedAction('expired', choice)).toBe('expired');
    }
  });
});

describe('the pattern registered with GitHub (docs/OPERATIONS.md)', () => {
  const PATTERN = /^luci_[0-9A-Za-z]{38}$/;
  const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  /** The checksum rule as the operations guide words it, written independently of key-format.ts. */
  function documentedChecksum(first37: string): string {
    let value = crc32(first37);
    let digits = '';
    for (let i = 0; i < 6; i++) {
      digits = BASE62[value % 62] + digits;
      value = Math.floor(value / 62);
    }
    return digits;
  }

  it('matches every key we issue, and its checksum is the one documented', () => {
    for (let n = 0; n < 500; n++) {
      const { secret } = generateKey();
      expect(secret).toMatch(PATTERN);
      expect(secret.slice(37)).toBe(documentedChecksum(secret.slice(0, 37)));
    }
  });
});
