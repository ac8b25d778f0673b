import net from 'node:net';

/**
 * A deliberately dumb HTTP/1.1 client for fuzzing: it writes exactly the bytes it is given
 * (supertest and node:http would normalise or refuse odd methods, duplicated or non-ASCII headers,
 * invalid bytes) and parses whatever comes back, including several responses on one connection.
 */

export interface RawResponse {
  httpVersion: string;
  status: number;
  /** Header names lower-cased; a header sent several times keeps every value. */
  headers: Record<string, string[]>;
  body: Buffer;
}

export interface RawExchange {
  responses: RawResponse[];
  /** The server closed the connection (normally after `Connection: close`). */
  closed: boolean;
  /** No complete response arrived before the deadline. */
  timedOut: boolean;
  /** Bytes that followed the last complete response and did not parse. */
  leftover: Buffer;
  socketError?: string;
}

export interface RequestSpec {
  method: string;
  /** The request-target exactly as written on the request line. */
  target: string | Buffer;
  /** In order; a name may repeat. Values may be raw bytes. */
  headers: Array<[string, string | Buffer]>;
  body?: Buffer;
  version?: string;
}

/** Serialises a request byte for byte (latin1 for strings, so every code unit < 256 is one byte). */
export function encodeRequest(spec: RequestSpec): Buffer {
  const target = typeof spec.target === 'string' ? Buffer.from(spec.target, 'utf8') : spec.target;
  const parts: Buffer[] = [Buffer.from(`${spec.method} `, 'latin1'), target, Buffer.from(` ${spec.version ?? 'HTTP/1.1'}\r\n`, 'latin1')];
  for (const [name, value] of spec.headers) {
    parts.push(Buffer.from(`${name}: `, 'latin1'), typeof value === 'string' ? Buffer.from(value, 'latin1') : value, Buffer.from('\r\n', 'latin1'));
  }
  parts.push(Buffer.from('\r\n', 'latin1'));
  if (spec.body) parts.push(spec.body);
  return Buffer.concat(parts);
}

/**
 * Sends `bytes` on a fresh connection and collects responses until the server closes it, or
 * `expected` responses are complete, or the deadline passes. `headRequest` tells the parser that
 * the (first) response has no body whatever its Content-Length says.
 */
export function exchange(
  port: number,
  bytes: Buffer,
  options: { timeoutMs?: number; expected?: number; headRequest?: boolean } = {},
): Promise<RawExchange> {
  const { timeoutMs = 10_000, expected = 1, headRequest = false } = options;
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    let closed = false;
    let socketError: string | undefined;
    const finish = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const { responses, leftover } = parseResponses(Buffer.concat(chunks), headRequest);
      resolve({ responses, closed, timedOut: timedOut && responses.length < expected, leftover, socketError });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (parseResponses(Buffer.concat(chunks), headRequest).responses.length >= expected) finish(false);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // EPIPE/ECONNRESET: the server answered and closed before reading all we sent; the answer counts.
      socketError = error.code ?? error.message;
    });
    socket.on('close', () => {
      closed = true;
      finish(false);
    });
    socket.on('connect', () => {
      socket.write(bytes, () => undefined);
    });
  });
}

/** Parses consecutive HTTP/1.x responses; interim (1xx) responses are skipped. */
export function parseResponses(buffer: Buffer, headRequest = false): { responses: RawResponse[]; leftover: Buffer } {
  const responses: RawResponse[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const end = buffer.indexOf('\r\n\r\n', offset, 'latin1');
    if (end === -1) break;
    const lines = buffer.subarray(offset, end).toString('latin1').split('\r\n');
    const match = /^(HTTP\/\d\.\d) (\d{3})(?: .*)?$/.exec(lines[0]);
    if (!match) break;
    const headers: Record<string, string[]> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      (headers[name] ??= []).push(line.slice(colon + 1).trim());
    }
    const status = Number(match[2]);
    let cursor = end + 4;
    let body: Buffer;
    const noBody = (headRequest && responses.length === 0) || status < 200 || status === 204 || status === 304;
    if (noBody) {
      body = Buffer.alloc(0);
    } else if ((headers['transfer-encoding'] ?? []).some((value) => /chunked/i.test(value))) {
      const decoded = decodeChunked(buffer, cursor);
      if (!decoded) break;
      body = decoded.body;
      cursor = decoded.next;
    } else if (headers['content-length']) {
      const length = Number(headers['content-length'][0]);
      if (!Number.isSafeInteger(length) || cursor + length > buffer.length) break;
      body = buffer.subarray(cursor, cursor + length);
      cursor += length;
    } else {
      // Delimited by the end of the connection.
      body = buffer.subarray(cursor);
      cursor = buffer.length;
    }
    offset = cursor;
    if (status >= 100 && status < 200) continue;
    responses.push({ httpVersion: match[1], status, headers, body });
  }
  return { responses, leftover: buffer.subarray(offset) };
}

function decodeChunked(buffer: Buffer, start: number): { body: Buffer; next: number } | undefined {
  const parts: Buffer[] = [];
  let cursor = start;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', cursor, 'latin1');
    if (lineEnd === -1) return undefined;
    const size = parseInt(buffer.subarray(cursor, lineEnd).toString('latin1').split(';')[0], 16);
    if (Number.isNaN(size)) return undefined;
    cursor = lineEnd + 2;
    if (size === 0) {
      const trailerEnd = buffer.indexOf('\r\n', cursor, 'latin1');
      if (trailerEnd === -1) return undefined;
      // No trailers expected; an empty line ends the message.
      return { body: Buffer.concat(parts), next: trailerEnd + 2 };
    }
    if (cursor + size + 2 > buffer.length) return undefined;
    parts.push(buffer.subarray(cursor, cursor + size));
    cursor += size + 2;
  }
}

/** `Transfer-Encoding: chunked` framing of a body, in chunks of the given size. */
export function chunked(body: Buffer, size: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) {
    const piece = body.subarray(i, i + size);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`, 'latin1'), piece, Buffer.from('\r\n', 'latin1'));
  }
  parts.push(Buffer.from('0\r\n\r\n', 'latin1'));
  return Buffer.concat(parts);
}

export function header(response: RawResponse, name: string): string | undefined {
  return response.headers[name.toLowerCase()]?.[0];
}
