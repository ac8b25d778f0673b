import { hash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * `luci_` + 32 random base62 characters (≈190 bits) + a 6-character base62 CRC32 of everything
 * before it. The checksum lets a mistyped or invented key be refused without a lookup, and lets
 * secret scanners recognise real keys.
 */
export const KEY_PREFIX = 'luci_';
const RANDOM_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
export const KEY_LENGTH = KEY_PREFIX.length + RANDOM_LENGTH + CHECKSUM_LENGTH;
/** Shown in the dashboard to recognise a key: `luci_` and 4 more characters. */
export const KEY_START_LENGTH = 9;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY = /^[A-Za-z0-9]+$/;

export interface GeneratedKey {
  secret: string;
  hash: string;
  start: string;
}

export function generateKey(): GeneratedKey {
  const body = KEY_PREFIX + randomBase62(RANDOM_LENGTH);
  const secret = body + checksum(body);
  return { secret, hash: hashKey(secret), start: secret.slice(0, KEY_START_LENGTH) };
}

/** True when the credential has the shape and checksum of a key we could have issued. */
export function isWellFormedKey(credential: string): boolean {
  if (credential.length !== KEY_LENGTH || !credential.startsWith(KEY_PREFIX)) return false;
  const rest = credential.slice(KEY_PREFIX.length);
  if (!BODY.test(rest)) return false;
  const body = credential.slice(0, -CHECKSUM_LENGTH);
  return checksum(body) === credential.slice(-CHECKSUM_LENGTH);
}

/**
 * SHA-256 hex: keys carry 190 bits of entropy, so a fast hash is the right one (no KDF needed).
 * The one-shot `crypto.hash` (no Hash object): a third of createHash's cost on every request.
 */
export function hashKey(secret: string): string {
  return hash('sha256', secret, 'hex');
}

function checksum(body: string): string {
  let value = crc32(body);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/** Uniform base62 by rejection sampling: bytes ≥ 248 are dropped so `% 62` has no bias. */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}
