import { AppError } from '../errors/app-error';

/**
 * Reads `Authorization: Bearer <credential>` (RFC 6750): the scheme is case-insensitive, then one
 * space and a credential without whitespace. What the credential itself must look like is the
 * business of the authenticator it goes to (INVALID_API_KEY / INVALID_SESSION).
 */
export function bearerCredential(header: string | string[] | undefined): string {
  if (header === undefined || header === '') {
    throw new AppError('UNAUTHORIZED', 'Missing credentials. Send Authorization: Bearer <API key or session token>.');
  }
  if (typeof header !== 'string') {
    throw new AppError('UNAUTHORIZED', 'Send exactly one Authorization header.');
  }
  const space = header.indexOf(' ');
  const scheme = space === -1 ? header : header.slice(0, space);
  if (scheme.toLowerCase() !== 'bearer') {
    throw new AppError('UNAUTHORIZED', 'Authorization must use the Bearer scheme: Authorization: Bearer <credential>.');
  }
  const credential = space === -1 ? '' : header.slice(space + 1);
  if (credential === '') {
    throw new AppError('UNAUTHORIZED', 'The Bearer credential is empty.');
  }
  if (/\s/.test(credential)) {
    throw new AppError('UNAUTHORIZED', 'Malformed Authorization header: exactly one space after "Bearer", then the credential.');
  }
  return credential;
}
