import net from 'node:net';

/**
 * A TCP proxy in front of Redis that reads the RESP the clients send and logs every command
 * name, per connection. Unlike `INFO commandstats` (server-wide, and counting the commands a Lua
 * script runs inside Redis as well), it sees exactly what one application instance sent, so a
 * test can count round trips without being disturbed by anyone else using the same server.
 */
export class RedisCommandProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  /** Command names (lower case) in the order they were sent, all connections together. */
  readonly commands: string[] = [];
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      const parser = new RespCommandReader((name) => this.commands.push(name));
      client.on('data', (chunk: Buffer) => parser.push(chunk));
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  /** Forgets the commands seen so far and returns them. */
  take(): string[] {
    return this.commands.splice(0, this.commands.length);
  }

  url(original: string): string {
    const url = new URL(original);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }
}

/**
 * Incremental reader of client-to-server RESP: each command is an array of bulk strings
 * (`*<n>\r\n` then n × `$<len>\r\n<bytes>\r\n`); inline commands are one line. Calls `onCommand`
 * with the first element of each complete command.
 */
export class RespCommandReader {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly onCommand: (name: string) => void) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const consumed = this.readOne();
      if (consumed === 0) return;
      this.buffer = this.buffer.subarray(consumed);
    }
  }

  /** Bytes of the first complete command in the buffer (reported), or 0 when it is incomplete. */
  private readOne(): number {
    const buffer = this.buffer;
    if (buffer.length === 0) return 0;
    const headerEnd = buffer.indexOf('\r\n');
    if (headerEnd === -1) return 0;
    if (buffer[0] !== 0x2a /* '*' */) {
      const name = buffer.subarray(0, headerEnd).toString().trim().split(/\s+/)[0]?.toLowerCase();
      if (name) this.onCommand(name);
      return headerEnd + 2;
    }
    const count = Number(buffer.subarray(1, headerEnd).toString());
    let offset = headerEnd + 2;
    let name = '';
    for (let index = 0; index < count; index++) {
      const lengthEnd = buffer.indexOf('\r\n', offset);
      if (lengthEnd === -1) return 0;
      const length = Number(buffer.subarray(offset + 1, lengthEnd).toString());
      const start = lengthEnd + 2;
      if (buffer.length < start + length + 2) return 0;
      if (index === 0) name = buffer.subarray(start, start + length).toString().toLowerCase();
      offset = start + length + 2;
    }
    this.onCommand(name);
    return offset;
  }
}
