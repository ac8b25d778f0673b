import http from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * A bounded load generator for the fault and shutdown tests: N workers, each sending one request
 * after another over keep-alive connections, recording for every request whether it got a
 * complete, well-formed answer (status, X-Request-Id, and the error envelope for errors).
 */

export interface Shot {
  kind: string;
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  /** API key secret sent as the bearer credential. */
  key?: string;
  body?: unknown;
  /** Sends the headers and half the body at once, the rest when this settles: a request held in flight. */
  holdBody?: Promise<void>;
  /** Carried into the outcome: e.g. the name a write creates, to look for it afterwards. */
  tag?: string;
}

export interface Outcome {
  kind: string;
  tag?: string;
  key?: string;
  /** ms on the `now()` clock. */
  started: number;
  ended: number;
  status?: number;
  code?: string;
  requestId?: string;
  /** Set when the answer is not a complete, well-formed response (transport error, truncated body, bad envelope). */
  problem?: string;
  /** The Node error code of a transport failure (ECONNREFUSED, ECONNRESET, …). */
  errorCode?: string;
  /** Whether the request went out on a kept-alive connection that had served an earlier request. */
  reusedSocket?: boolean;
  /** Whether the server asked to close the connection after this response. */
  connectionClose?: boolean;
}

export const now = (): number => performance.now();

const REQUEST_ID = /^req_[0-9a-f]{16,}$/;

/** Sends one request and classifies what came back; never throws. */
export function send(agent: http.Agent, baseUrl: string, shot: Shot, timeoutMs = 10_000): Promise<Outcome> {
  const url = new URL(shot.path, baseUrl);
  const payload = shot.body === undefined ? undefined : JSON.stringify(shot.body);
  const headers: Record<string, string> = {};
  if (shot.key) headers.authorization = `Bearer ${shot.key}`;
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  const outcome: Outcome = { kind: shot.kind, tag: shot.tag, key: shot.key, started: now(), ended: 0 };
  return new Promise((resolve) => {
    let settled = false;
    const finish = (problem?: string, errorCode?: string) => {
      if (settled) return;
      settled = true;
      outcome.ended = now();
      if (problem) outcome.problem = problem;
      if (errorCode) outcome.errorCode = errorCode;
      resolve(outcome);
    };
    const request = http.request(
      { agent, method: shot.method, hostname: url.hostname, port: url.port, path: url.pathname + url.search, headers },
      (response) => {
        outcome.status = response.statusCode;
        outcome.connectionClose = /close/i.test(String(response.headers.connection ?? ''));
        const headerId = response.headers['x-request-id'];
        outcome.requestId = typeof headerId === 'string' ? headerId : undefined;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('aborted', () => finish('response truncated (aborted)', 'ECONNRESET'));
        response.on('error', (error: NodeJS.ErrnoException) => finish(`response error: ${error.message}`, error.code));
        response.on('end', () => {
          if (!response.complete) return finish('response truncated (incomplete)');
          finish(checkBody(outcome, Buffer.concat(chunks).toString('utf8')));
        });
        // A connection closed before the body's end never emits 'end'.
        response.on('close', () => finish('response truncated (closed before its end)', 'ECONNRESET'));
      },
    );
    request.on('socket', () => (outcome.reusedSocket = request.reusedSocket));
    request.setTimeout(timeoutMs, () => {
      finish(`no response within ${timeoutMs} ms`, 'TIMEOUT');
      request.destroy();
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      outcome.reusedSocket = request.reusedSocket;
      finish(`transport error: ${error.code ?? error.message}`, error.code);
    });
    if (shot.holdBody && payload !== undefined) {
      const half = Math.floor(payload.length / 2);
      request.write(payload.slice(0, half));
      void shot.holdBody.then(() => request.end(payload.slice(half)));
    } else {
      request.end(payload);
    }
  });
}

/** Returns why a complete response is not well-formed, or undefined. Fills `code`. */
function checkBody(outcome: Outcome, text: string): string | undefined {
  if (!outcome.requestId || !REQUEST_ID.test(outcome.requestId)) return `missing or malformed X-Request-Id (${outcome.requestId})`;
  const status = outcome.status ?? 0;
  if (status === 204) return text === '' ? undefined : 'a 204 with a body';
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `body is not JSON: ${text.slice(0, 80)}`;
  }
  if (status < 400) return undefined;
  const error = (body as { error?: Record<string, unknown> })?.error;
  if (!error || typeof error.code !== 'string' || typeof error.message !== 'string') return `not an error envelope: ${text.slice(0, 120)}`;
  outcome.code = error.code;
  if (error.request_id !== outcome.requestId) return `envelope request_id ${String(error.request_id)} differs from the header ${outcome.requestId}`;
  return undefined;
}

export interface LoadOptions {
  baseUrl: string;
  concurrency: number;
  /** Hard bounds: the run stops at whichever comes first. */
  maxRequests: number;
  maxDurationMs: number;
  /** The next request a worker sends; `n` counts requests across workers. */
  next: (n: number) => Shot;
  timeoutMs?: number;
  agent?: http.Agent;
}

export class LoadGenerator {
  readonly outcomes: Outcome[] = [];
  readonly agent: http.Agent;
  private stopped = false;
  private sent = 0;
  private workers: Promise<void>[] = [];
  startedAt = 0;

  constructor(private readonly options: LoadOptions) {
    this.agent = options.agent ?? new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  }

  start(): this {
    this.startedAt = now();
    const deadline = this.startedAt + this.options.maxDurationMs;
    this.workers = Array.from({ length: this.options.concurrency }, async () => {
      while (!this.stopped && this.sent < this.options.maxRequests && now() < deadline) {
        const shot = this.options.next(this.sent++);
        this.outcomes.push(await send(this.agent, this.options.baseUrl, shot, this.options.timeoutMs));
      }
    });
    return this;
  }

  get count(): number {
    return this.sent;
  }

  /** Stops sending and waits for every request in flight to settle. */
  async stop(): Promise<Outcome[]> {
    this.stopped = true;
    await Promise.all(this.workers);
    if (!this.options.agent) this.agent.destroy();
    return this.outcomes;
  }

  /** Outcomes of requests started in [from, to). */
  startedBetween(from: number, to = Infinity): Outcome[] {
    return this.outcomes.filter((outcome) => outcome.started >= from && outcome.started < to);
  }
}

/** Distinct values with their counts, for readable failure messages: `{ "503 SERVICE_UNAVAILABLE": 12 }`. */
export function tally(outcomes: Outcome[], label: (outcome: Outcome) => string = describeOutcome): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) counts[label(outcome)] = (counts[label(outcome)] ?? 0) + 1;
  return counts;
}

export function describeOutcome(outcome: Outcome): string {
  if (outcome.problem) return `lost: ${outcome.problem}`;
  return outcome.code ? `${outcome.status} ${outcome.code}` : String(outcome.status);
}
