import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions, preParsingHookHandler } from 'fastify';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import type { Socket } from 'node:net';
import { AppError } from './errors/app-error';
import { generateRequestId } from './request-context/request-id';
import { API_HEADERS } from './security-headers';

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
 * The most of a refused body read and dropped so that a client still sending it can read the
 * answer (a socket closed with unread input is reset: the client gets EPIPE or ECONNRESET, not
 * the answer). Past either bound the connection is cut.
 */
const DRAIN_MAX_BYTES = 8 * 1024 * 1024;
const DRAIN_MAX_MS = 5_000;

/** Requests whose client waits for `100 Continue` before sending its body, not sent yet. */
const awaitingContinue = new WeakSet<IncomingMessage>();

/**
 * The HTTP server, with the cases Node would answer on its own (a bare 400 for a missing Host, a
 * 417 for an unknown Expect, a dropped socket for CONNECT, an immediate `100 Continue`) handed to
 * Fastify or answered with the envelope. Fastify applies its timeouts only to servers it creates,
 * so they are applied here.
 */
export function createHttpServer(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
  options: Pick<FastifyServerOptions, 'connectionTimeout' | 'requestTimeout' | 'keepAliveTimeout'>,
): Server {
  const server = createServer({ requireHostHeader: false }, handler);
  if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
  if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
  if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
  server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
    if (!hasBody(request)) return;
    // GET/HEAD bodies are never parsed: read them off the wire, so closing after the answer does not
    // reset a socket with unread bytes (the kernel would drop the unsent tail of a large response).
    if ((request.method === 'GET' || request.method === 'HEAD') && !awaitingContinue.has(request)) request.resume();
    // Before Node's own listener, which would drop the rest unseen (and uncounted).
    response.prependOnceListener('finish', drainAfterAnswer);
  });
  // Node would send `100 Continue` at once. It goes out when the body is first read instead —
  // after authentication and the size, type and encoding checks — so a refused request is
  // answered before the client sends a byte of its body.
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    awaitingContinue.add(request);
    request.once('resume', () => {
      if (awaitingContinue.delete(request) && !response.headersSent) response.writeContinue();
    });
    server.emit('request', request, response);
  });
  server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => server.emit('request', request, response));
  server.on('connect', (_request: IncomingMessage, socket: Socket) =>
    endWithEnvelope(socket, 405, 'Method Not Allowed', 'METHOD_NOT_ALLOWED', 'CONNECT is not supported.'),
  );
  return server;
}

function hasBody(request: IncomingMessage): boolean {
  return request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined;
}

/**
 * Answered before its body arrived (a refusal): on a connection kept alive the rest is read off
 * the wire before the next request — within the drain bounds, past which the connection is cut.
 */
function drainAfterAnswer(this: ServerResponse): void {
  const request = this.req;
  if (request.complete) return;
  void drainBody(request).then((ended) => {
    if (!ended) request.socket.destroy();
  });
}

/** Reads and drops the rest of a request body: true once it ended, false past the drain bounds. */
function drainBody(request: IncomingMessage): Promise<boolean> {
  return new Promise((resolve) => {
    let received = 0;
    const settle = (ended: boolean) => {
      clearTimeout(timer);
      request.off('data', count).off('end', onEnd);
      request.socket.off('close', onClose);
      resolve(ended);
    };
    const count = (chunk: Buffer) => {
      received += chunk.length;
      if (received > DRAIN_MAX_BYTES) settle(false);
    };
    const onEnd = () => settle(true);
    const onClose = () => settle(request.complete);
    const timer = setTimeout(() => settle(false), DRAIN_MAX_MS);
    request.on('data', count).once('end', onEnd);
    // The socket's close: a request already answered is not told when its connection drops.
    request.socket.once('close', onClose);
    request.resume();
  });
}

const IDENTITY = /^\s*(identity)?\s*$/i;

/**
 * Request bodies are identity-encoded JSON: a compressed one is refused before it is read (decoding
 * it would reopen the size limit). A body Fastify refuses unread — over the 1 MiB limit — is
 * answered on a connection Fastify then closes; when the client is sending it (it did not wait
 * for `100 Continue`), it is read and dropped first, within the drain bounds, so that the client
 * reads the 413 instead of a reset connection.
 */
export function registerBodyRefusals(fastify: FastifyInstance): void {
  const refuseEncoded: preParsingHookHandler = (request, _reply, payload, done) => {
    const encoding = request.headers['content-encoding'];
    if (encoding === undefined || IDENTITY.test(encoding) || request.method === 'GET' || request.method === 'HEAD') {
      done(null, payload);
    } else {
      done(new AppError('UNSUPPORTED_MEDIA_TYPE', 'Only identity-encoded JSON is accepted: send the body without Content-Encoding.'));
    }
  };
  // Only on routes that take a body: reads (GET /v1/organization…) do not pay for the hook.
  fastify.addHook('onRoute', (route) => {
    if ([route.method].flat().every((method) => method === 'GET' || method === 'HEAD')) return;
    route.preParsing = [...[route.preParsing ?? []].flat(), refuseEncoded];
  });
  fastify.addHook('onError', (request, reply, _error, done) => {
    const raw = request.raw;
    // No `100 Continue` went out: the answer is final, and Node closes the connection after it.
    const noContinue = awaitingContinue.delete(raw);
    const closes = noContinue || reply.getHeader('connection') === 'close';
    const sending = !raw.complete && (!noContinue || raw.readableLength > 0);
    if (closes && sending) void drainBody(raw).then(() => done());
    else done();
  });
}

/** Errors Fastify answers before any hook runs (an undecodable URL), in our envelope. */
export function frameworkErrors(error: Error, request: FastifyRequest, reply: FastifyReply): void {
  void reply
    .code(400)
    .headers(API_HEADERS)
    .header('x-request-id', request.id)
    .type('application/json; charset=utf-8')
    .send({ error: { code: 'VALIDATION_FAILED', message: 'The request URL is not valid.', request_id: request.id } });
}

const RAW_API_HEADERS = Object.entries(API_HEADERS)
  .map(([name, value]) => `${name}: ${value}\r\n`)
  .join('');

function endWithEnvelope(socket: Socket, status: number, reason: string, code: string, message: string): void {
  if (!socket.writable) return;
  const requestId = generateRequestId();
  const body = JSON.stringify({ error: { code, message, request_id: requestId } });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-Id: ${requestId}\r\n${RAW_API_HEADERS}Connection: close\r\n\r\n${body}`,
  );
  // Node has detached its parser: drop whatever else arrives, so the peer's close is seen (a paused
  // socket would stay half-open, holding server.close() forever); a peer that never closes is cut off.
  socket.resume();
  socket.setTimeout(CLOSE_GRACE_MS, () => socket.destroy());
}
