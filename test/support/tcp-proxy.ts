import net from 'node:net';
import type { Backend } from './test-app';

/**
 * A TCP proxy in front of PostgreSQL or Redis, so a test can cut a dependency off (and bring it
 * back) without stopping the shared server other tests use.
 */
export class TcpProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    if (this.server) return;
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Refuses new connections and cuts the open ones, as a dead server would. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  /** Rewrites a URL's host and port to go through this proxy. */
  url(original: string): string {
    const url = new URL(original);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }
}

/** PostgreSQL and Redis of a shared backend, each behind its own proxy, for an app a test can cut off from either. */
export interface ProxiedBackend {
  backend: Backend;
  database: TcpProxy;
  redis: TcpProxy;
  stop(): Promise<void>;
}

export async function proxyBackend(shared: Backend): Promise<ProxiedBackend> {
  const through = (url: string, defaultPort: number) => {
    const parsed = new URL(url);
    return new TcpProxy(parsed.hostname, Number(parsed.port || defaultPort));
  };
  const database = through(shared.databaseUrl!, 5432);
  const redis = through(shared.redisUrl!, 6379);
  await database.start();
  await redis.start();
  return {
    backend: { ...shared, databaseUrl: database.url(shared.databaseUrl!), redisUrl: redis.url(shared.redisUrl!) },
    database,
    redis,
    stop: async () => {
      await database.stop();
      await redis.stop();
    },
  };
}
