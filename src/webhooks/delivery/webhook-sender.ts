import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { FailureKind } from '../webhook.presenter';
import { TargetRefused, bareHost, checkedLookup, resolveTarget } from '../target-url';

export interface SendRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  allowPrivate: boolean;
  /** Abandons the attempt (the service is stopping). */
  signal?: AbortSignal;
}

export interface SendResult {
  statusCode: number | null;
  failure: FailureKind | null;
  durationMs: number;
}

const TIMED_OUT = 'webhook attempt timed out';

/**
 * One POST. The whole attempt (name resolution, connection, TLS, until the status line) has
 * `timeoutMs`. No redirect is followed (a 3xx is a failed attempt), no connection is reused, and
 * the response body is never read: the status is all that is kept.
 */
export async function send(request: SendRequest): Promise<SendResult> {
  const started = performance.now();
  const done = (statusCode: number | null, failure: FailureKind | null): SendResult => ({
    statusCode,
    failure,
    durationMs: Math.round(performance.now() - started),
  });
  try {
    const statusCode = await post(request);
    return done(statusCode, statusCode >= 200 && statusCode < 300 ? null : 'http_status');
  } catch (error) {
    return done(null, failureKind(error as NodeJS.ErrnoException));
  }
}

async function post(request: SendRequest): Promise<number> {
  const url = new URL(request.url);
  const client = url.protocol === 'https:' ? https : http;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(TIMED_OUT)), request.timeoutMs);
  const abandon = () => controller.abort(new Error('abandoned'));
  request.signal?.addEventListener('abort', abandon, { once: true });
  try {
    // An address literal never reaches `lookup` (nothing to resolve): checked here instead.
    if (isIP(bareHost(url.hostname))) await resolveTarget(url.hostname, request.allowPrivate);
    return await new Promise<number>((resolve, reject) => {
      const outgoing = client.request(url, {
        method: 'POST',
        agent: false,
        lookup: checkedLookup(request.allowPrivate),
        signal: controller.signal,
        headers: { ...request.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(request.body) },
      });
      outgoing.once('response', (response) => {
        resolve(response.statusCode ?? 0);
        response.destroy();
      });
      outgoing.once('error', (error) => reject(controller.signal.aborted ? (controller.signal.reason as Error) : error));
      outgoing.end(request.body);
    });
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', abandon);
  }
}

function failureKind(error: NodeJS.ErrnoException): FailureKind {
  if (error instanceof TargetRefused) return error.kind;
  if (error.message === TIMED_OUT) return 'timeout';
  const code = error.code ?? '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns_failed';
  if (/^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH|ERR_OSSL)/.test(code)) return 'tls_failed';
  return 'connection_failed';
}
