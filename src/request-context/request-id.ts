import { randomBytes } from 'node:crypto';

/** `req_` + 24 hex characters (96 bits) from the CSPRNG: unique without coordination. */
export function generateRequestId(): string {
  return `req_${randomBytes(12).toString('hex')}`;
}

const CALLER_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A caller's own correlation id is logged (never echoed) when it looks like an id. */
export function callerRequestId(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && CALLER_REQUEST_ID.test(header) ? header : undefined;
}
