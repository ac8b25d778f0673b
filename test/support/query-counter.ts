import net from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import type { Backend } from './test-app';

/**
 * Counts the statements an app sends to PostgreSQL, below every library the app uses: on the wire
 * for real PostgreSQL (a TCP proxy that reads the frontend protocol), and at PGlite's protocol
 * entry point for the embedded database. Whatever the code path — Prisma, raw SQL, a transaction —
 * a statement has to cross one of these two places.
 */
export interface QueryCounter {
  /** The backend to start the app on: its database URL goes through the counter. */
  backend: Backend;
  /** Statements executed since the last reset (simple-protocol queries + extended-protocol executes). */
  statements(): number;
  /** Every frontend message since the last reset except Terminate, by type letter. */
  messages(): Record<string, number>;
  /** The SQL text of every simple query and every statement parsed since the last reset. */
  sql(): string[];
  reset(): void;
  close(): Promise<void>;
}

export async function startQueryCounter(backend: Backend): Promise<QueryCounter> {
  return backend.databaseUrl ? WireCounter.start(backend) : PgliteCounter.start(backend);
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
/** Terminate: a pool closing an idle connection, not a query. */
const TERMINATE = 'X';

/** Reads PostgreSQL frontend messages out of a byte stream, possibly split across chunks. */
class FrontendStream {
  private pending = Buffer.alloc(0);

  constructor(
    private readonly onMessage: (type: string, body: Buffer) => void,
    /** A fresh connection starts with untyped messages (startup, SSL request). */
    private startup = true,
  ) {}

  push(chunk: Uint8Array): void {
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    for (;;) {
      if (this.startup) {
        if (this.pending.length < 8) return;
        const length = this.pending.readInt32BE(0);
        if (this.pending.length < length) return;
        const code = this.pending.readInt32BE(4);
        this.startup = code === SSL_REQUEST || code === GSSENC_REQUEST;
        this.pending = this.pending.subarray(length);
        continue;
      }
      if (this.pending.length < 5) return;
      const length = this.pending.readInt32BE(1);
      if (this.pending.length < 1 + length) return;
      this.onMessage(String.fromCharCode(this.pending[0]), this.pending.subarray(5, 1 + length));
      this.pending = this.pending.subarray(1 + length);
    }
  }
}

class Tally {
  private counts: Record<string, number> = {};
  private texts: string[] = [];

  add(type: string, body: Buffer): void {
    if (type === TERMINATE) return;
    this.counts[type] = (this.counts[type] ?? 0) + 1;
    // Query: the SQL; Parse: the statement name, then the SQL (both NUL-terminated)
    if (type === 'Q') this.texts.push(cstrings(body)[0]);
    if (type === 'P') this.texts.push(cstrings(body)[1]);
  }

  sql(): string[] {
    return [...this.texts];
  }

  statements(): number {
    return (this.counts.Q ?? 0) + (this.counts.E ?? 0);
  }

  messages(): Record<string, number> {
    return { ...this.counts };
  }

  reset(): void {
    this.counts = {};
    this.texts = [];
  }
}

function cstrings(body: Buffer): string[] {
  return body.toString('utf8').split('\0');
}

class WireCounter implements QueryCounter {
  private readonly tally = new Tally();
  private readonly sockets = new Set<net.Socket>();
  private server!: net.Server;
  backend!: Backend;

  static async start(backend: Backend): Promise<WireCounter> {
    const counter = new WireCounter();
    const target = new URL(backend.databaseUrl!);
    counter.server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 5432), target.hostname);
      const stream = new FrontendStream((type, body) => counter.tally.add(type, body));
      for (const socket of [client, upstream]) {
        counter.sockets.add(socket);
        socket.on('close', () => counter.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.on('data', (chunk: Buffer) => stream.push(chunk));
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => counter.server.listen(0, '127.0.0.1', resolve));
    const proxied = new URL(backend.databaseUrl!);
    proxied.hostname = '127.0.0.1';
    proxied.port = String((counter.server.address() as net.AddressInfo).port);
    counter.backend = { ...backend, databaseUrl: proxied.toString() };
    return counter;
  }

  statements = (): number => this.tally.statements();
  messages = (): Record<string, number> => this.tally.messages();
  sql = (): string[] => this.tally.sql();
  reset = (): void => this.tally.reset();

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

class PgliteCounter implements QueryCounter {
  private readonly tally = new Tally();
  private spy?: jest.SpyInstance;
  backend!: Backend;

  static async start(backend: Backend): Promise<PgliteCounter> {
    const counter = new PgliteCounter();
    counter.backend = backend;
    const original = PGlite.prototype.execProtocolRawSync;
    // Every statement PGlite runs, whichever API the adapter used, passes through here as protocol bytes.
    counter.spy = jest.spyOn(PGlite.prototype, 'execProtocolRawSync').mockImplementation(function (this: PGlite, message: Uint8Array) {
      new FrontendStream((type, body) => counter.tally.add(type, body), message[0] === 0).push(message);
      return original.call(this, message);
    });
    return counter;
  }

  statements = (): number => this.tally.statements();
  messages = (): Record<string, number> => this.tally.messages();
  sql = (): string[] => this.tally.sql();
  reset = (): void => this.tally.reset();

  async close(): Promise<void> {
    this.spy?.mockRestore();
  }
}
