import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error';

const AUTHORIZATION = /^authorization$/i;

/**
 * Reads `Authorization: Bearer <credential>` (RFC 6750) from the request's one Authorization
 * header: the scheme is case-insensitive, then one space and a credential without whitespace.
 * What the credential itself must look like is the business of the authenticator it goes to
 * (INVALID_API_KEY / INVALID_SESSION).
 */
export function bearerCredential(request: FastifyRequest): string {
  refuseRepeatedAuthorization(request.raw.rawHeaders);
  const header = request.headers.authorization;
  if (header === undefined || header === '') {
    throw new AppError('UNAUTHORIZED', 'Missing credentials. Send Authorization: Bearer <API key or session token>.');
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

/**
 * Node keeps the first of several Authorization headers and drops the rest, so `headers` cannot
 * tell; a proxy that reads the last one would authenticate someone else. The raw list is walked
 * once, names only, without allocating (this runs on every authenticated request).
 */
export function refuseRepeatedAuthorization(rawHeaders: readonly string[]): void {
  let seen = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name.length === 13 && AUTHORIZATION.test(name) && ++seen > 1) {
      throw new AppError('UNAUTHORIZED', 'Send exactly one Authorization header.');
    }
  }
}
