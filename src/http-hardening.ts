import helmet from '@fastify/helmet';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Socket } from 'node:net';
import { generateRequestId } from './request-context/request-id';

/**
 * Security headers for a JSON API (@fastify/helmet): nothing may frame, sniff or embed our
 * answers; the CSP still lets the Swagger UI at /docs load its own scripts and styles.
 */
export async function registerSecurityHeaders(app: NestFastifyApplication): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        'style-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:'],
        'frame-ancestors': ["'none'"],
        'base-uri': ["'none'"],
        'form-action': ["'none'"],
      },
    },
    crossOriginResourcePolicy: { policy: 'same-site' },
    frameguard: { action: 'deny' },
  });
}

/**
 * Requests Node refuses before Fastify sees them (headers over 16 KiB, a request not received
 * in time, bytes that are not HTTP) still get the envelope and a request id.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) return;
  const requestId = generateRequestId();
  const message =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 'Request headers are larger than 16 KiB.'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'The request was not received in time.'
        : 'The request is not valid HTTP.';
  const body = JSON.stringify({ error: { code: 'VALIDATION_FAILED', message, request_id: requestId } });
  socket.end(
    `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  );
}
