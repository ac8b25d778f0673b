import { KeyObject, verify } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const KEY_IDENTIFIER_HEADER = 'github-public-key-identifier';
export const SIGNATURE_HEADER = 'github-public-key-signature';

const IDENTIFIER = /^[A-Za-z0-9_.:+/=-]{1,256}$/;
/** A DER-encoded P-256 signature is at most 72 bytes: 96 base64 characters. */
const SIGNATURE = /^[A-Za-z0-9+/]{16,128}={0,2}$/;

export interface ReportSignature {
  identifier: string;
  signature: Buffer;
}

/**
 * The two headers GitHub signs a report with, when both are present once and well formed; else
 * null. Read in `onRequest`, so a request without them is refused before its body is read.
 */
export function readSignatureHeaders(headers: IncomingHttpHeaders): ReportSignature | null {
  const identifier = headers[KEY_IDENTIFIER_HEADER];
  const signature = headers[SIGNATURE_HEADER];
  if (typeof identifier !== 'string' || typeof signature !== 'string') return null;
  if (!IDENTIFIER.test(identifier) || !SIGNATURE.test(signature)) return null;
  return { identifier, signature: Buffer.from(signature, 'base64') };
}

/** ECDSA P-256 with SHA-256 over the exact bytes received, the signature DER-encoded as GitHub sends it. */
export function isSignedBy(key: KeyObject, body: Buffer, signature: Buffer): boolean {
  try {
    return verify('sha256', body, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false; // not a DER signature at all
  }
}
