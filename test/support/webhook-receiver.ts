import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { WebhookConfig } from '../../src/config/app-config';
import { loadConfig } from '../../src/config/load-config';

export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Whether the `standardwebhooks` package accepted it with the path's secret at arrival. */
  verified: boolean;
  receivedAt: number;
}

/** What the receiver does with the n-th request (0-based) to a path: answer a status, or hold it unanswered. */
export type Behaviour = (n: number, received: Received) => number | 'hold';

/**
 * A local webhook receiver that checks every delivery with the `standardwebhooks` npm package —
 * an implementation independent of the service's signer.
 */
export class WebhookReceiver {
  readonly requests: Received[] = [];
  private readonly secrets = new Map<string, string>();
  private readonly behaviours = new Map<string, Behaviour>();
  private readonly sockets = new Set<Socket>();
  private readonly waiters: Array<() => void> = [];
  private readonly held: http.ServerResponse[] = [];

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<WebhookReceiver> {
    const server = http.createServer();
    const receiver = new WebhookReceiver(server);
    server.on('connection', (socket) => {
      receiver.sockets.add(socket);
      socket.once('close', () => receiver.sockets.delete(socket));
    });
    server.on('request', (request, response) => receiver.handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** Registers the secret deliveries to `path` are verified with, and what it answers. */
  expect(path: string, secret: string, behaviour: Behaviour = () => 204): void {
    this.secrets.set(path, secret);
    this.behaviours.set(path, behaviour);
  }

  at(path: string): Received[] {
    return this.requests.filter((request) => request.path === path);
  }

  /** Resolves once `check` holds over what was received (checked on every arrival). */
  async until<T>(what: string, check: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined && value !== false) return value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; received ${JSON.stringify(this.requests.map((r) => r.path))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)]));
      const received: Received = { path, headers, body, verified: verifies(this.secrets.get(path), body, headers), receivedAt: Date.now() };
      const n = this.at(path).length;
      this.requests.push(received);
      const answer = (this.behaviours.get(path) ?? (() => 404))(n, received);
      if (answer === 'hold') this.held.push(response);
      else response.writeHead(answer).end();
      for (const wake of this.waiters.splice(0)) wake();
    });
  }
}

export function verifies(secret: string | undefined, body: string, headers: Record<string, string>): boolean {
  if (!secret) return false;
  try {
    new Webhook(secret).verify(body, headers);
    return true;
  } catch {
    return false;
  }
}

/** Fast clocks for test instances; instances sharing a database must share these (they share the outbox). */
export function fastWebhooks(secretsKey: Buffer, overrides: Partial<WebhookConfig> = {}): WebhookConfig {
  return {
    ...loadConfig({}).webhooks,
    secretsKey,
    allowPrivateTargets: true,
    timeoutMs: 1_000,
    backoffBaseMs: 100,
    maxAgeSeconds: 4,
    disableAfterFailures: 2,
    pollIntervalMs: 50,
    ...overrides,
  };
}
