import { randomFillSync } from 'node:crypto';
import { isCredential } from './redact';

const ID_BYTES = 12;
/** CSPRNG bytes for 256 ids: one call into the CSPRNG per 256 requests, not one per request. */
const pool = Buffer.alloc(ID_BYTES * 256);
let offset = pool.length;

/** `req_` + 24 hex characters (96 bits) from the CSPRNG: unique without coordination. */
export function generateRequestId(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('hex', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return `req_${id}`;
}

const CALLER_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A caller's own correlation id is logged (never echoed) when it looks like an id — and is not a
 * credential pasted into the wrong header.
 */
export function callerRequestId(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && CALLER_REQUEST_ID.test(header) && !isCredential(header) ? header : undefined;
}
