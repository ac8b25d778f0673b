import type { FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import type { Socket } from 'node:net';
import { generateRequestId } from './request-context/request-id';

/**
 * Requests Node refuses before Fastify sees them (headers over 16 KiB, a request not received
 * in time, bytes that are not HTTP) still get the envelope and a request id.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  const message =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 'Request headers are larger than 16 KiB.'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'The request was not received in time.'
        : 'The request is not valid HTTP.';
  endWithEnvelope(socket, 400, 'Bad Request', 'VALIDATION_FAILED', message);
}

/** How long a socket answered outside Fastify may take to close once answered. */
const CLOSE_GRACE_MS = 5_000;

/**
 * The HTTP server, with the cases Node would answer on its own (a bare 400 for a missing Host, a
 * 417 for an unknown Expect, a dropped socket for CONNECT) handed to Fastify or answered with the
 * envelope. Fastify applies its timeouts only to servers it creates, so they are applied here.
 */
export function createHttpServer(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
  options: Pick<FastifyServerOptions, 'connectionTimeout' | 'requestTimeout' | 'keepAliveTimeout'>,
): Server {
  const server = createServer({ requireHostHeader: false }, handler);
  if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
  if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
  if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
  // GET/HEAD bodies are never parsed: read them off the wire, so closing after the answer does not
  // reset a socket with unread bytes (the kernel would drop the unsent tail of a large response).
  server.prependListener('request', (request: IncomingMessage) => {
    if ((request.method === 'GET' || request.method === 'HEAD') && hasBody(request)) request.resume();
  });
  server.on('checkExpectation', handler);
  server.on('connect', (_request: IncomingMessage, socket: Socket) =>
    endWithEnvelope(socket, 405, 'Method Not Allowed', 'METHOD_NOT_ALLOWED', 'CONNECT is not supported.'),
  );
  return server;
}

function hasBody(request: IncomingMessage): boolean {
  return request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined;
}

/** Errors Fastify answers before any hook runs (an undecodable URL), in our envelope. */
export function frameworkErrors(error: Error, request: FastifyRequest, reply: FastifyReply): void {
  void reply
    .code(400)
    .header('x-request-id', request.id)
    .type('application/json; charset=utf-8')
    .send({ error: { code: 'VALIDATION_FAILED', message: 'The request URL is not valid.', request_id: request.id } });
}

function endWithEnvelope(socket: Socket, status: number, reason: string, code: string, message: string): void {
  if (!socket.writable) return;
  const requestId = generateRequestId();
  const body = JSON.stringify({ error: { code, message, request_id: requestId } });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  );
  // Node has detached its parser: drop whatever else arrives, so the peer's close is seen (a paused
  // socket would stay half-open, holding server.close() forever); a peer that never closes is cut off.
  socket.resume();
  socket.setTimeout(CLOSE_GRACE_MS, () => socket.destroy());
}
