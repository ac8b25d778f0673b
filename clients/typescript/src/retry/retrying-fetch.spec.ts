import { LucitraApiError } from '../errors';
import { retryingFetch, RetryEvent } from './retrying-fetch';

type Reply = { status: number; headers?: Record<string, string>; body?: unknown };

/** A fetch that answers from a script and records what it was sent; time moves only when slept. */
function scripted(replies: Reply[]) {
  let clock = 0;
  const sent: { method: string; body: string; at: number }[] = [];
  const retries: RetryEvent[] = [];
  const sut = retryingFetch({
    fetch: async (request) => {
      sent.push({ method: request.method, body: await request.text(), at: clock });
      const reply = replies[Math.min(sent.length - 1, replies.length - 1)];
      const body = reply.body === undefined ? null : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      return new Response(body, { status: reply.status, headers: reply.headers });
    },
    policy: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, maxElapsedMs: 30_000 },
    random: () => 0.5,
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
    onRetry: (event) => retries.push(event),
  });
  return { sut, sent, retries };
}

const rateLimited = (seconds: number): Reply => ({
  status: 429,
  headers: { 'Retry-After': String(seconds), 'X-Request-Id': 'req_00000000000000000001' },
  body: { error: { code: 'RATE_LIMITED', message: `Rate limit exceeded. Retry after ${seconds} seconds.`, retry_after: seconds, request_id: 'req_00000000000000000001' } },
});
const ok: Reply = { status: 200, body: { ok: true } };
const post = () => new Request('http://api.test/v1/datasets', { method: 'POST', body: '{"name":"d"}', headers: { 'Content-Type': 'application/json' } });

describe('retryingFetch', () => {
  it('rides out 429s: waits Retry-After plus jitter, sends the same body again', async () => {
    const { sut, sent, retries } = scripted([rateLimited(2), rateLimited(1), ok]);
    const response = await sut(post());
    expect(response.status).toBe(200);
    expect(sent).toEqual([
      { method: 'POST', body: '{"name":"d"}', at: 0 },
      { method: 'POST', body: '{"name":"d"}', at: 2050 },
      { method: 'POST', body: '{"name":"d"}', at: 2050 + 1100 },
    ]);
    expect(retries.map(({ attempt, status, retryAfterMs, delayMs }) => ({ attempt, status, retryAfterMs, delayMs }))).toEqual([
      { attempt: 1, status: 429, retryAfterMs: 2000, delayMs: 2050 },
      { attempt: 2, status: 429, retryAfterMs: 1000, delayMs: 1100 },
    ]);
  });

  it('throws the last 429 as RATE_LIMITED once the attempts are spent', async () => {
    const { sut, sent } = scripted([rateLimited(1)]);
    const error = await sut(post()).catch((caught: unknown) => caught);
    expect(sent).toHaveLength(4);
    expect(error).toBeInstanceOf(LucitraApiError);
    expect(error).toMatchObject({ status: 429, code: 'RATE_LIMITED', retryAfter: 1, requestId: 'req_00000000000000000001' });
  });

  it('retries 503 for GET and DELETE, not for POST', async () => {
    const unavailable: Reply = { status: 503, body: { error: { code: 'SERVICE_UNAVAILABLE', message: 'Down', request_id: 'req_1' } } };
    for (const method of ['GET', 'DELETE']) {
      const { sut, sent } = scripted([unavailable, ok]);
      expect((await sut(new Request('http://api.test/v1/x', { method }))).status).toBe(200);
      expect(sent).toHaveLength(2);
    }
    const { sut, sent } = scripted([unavailable, ok]);
    await expect(sut(post())).rejects.toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    expect(sent).toHaveLength(1);
  });

  it.each([400, 401, 403, 404, 409, 500])('never retries %i', async (status) => {
    const { sut, sent } = scripted([{ status, body: { error: { code: 'X', message: 'm', request_id: 'req_2' } } }, ok]);
    await expect(sut(new Request('http://api.test/v1/x'))).rejects.toMatchObject({ status });
    expect(sent).toHaveLength(1);
  });

  it('gives up early when Retry-After is past the time budget', async () => {
    const { sut, sent } = scripted([rateLimited(60), ok]);
    await expect(sut(post())).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfter: 60 });
    expect(sent).toHaveLength(1);
  });

  it('stops waiting when the caller aborts', async () => {
    const controller = new AbortController();
    const sut = retryingFetch({ fetch: async () => new Response(null, { status: 429, headers: { 'Retry-After': '30' } }), policy: { maxElapsedMs: 120_000 } });
    const pending = sut(new Request('http://api.test/v1/x', { signal: controller.signal }));
    setTimeout(() => controller.abort(new Error('stopped')), 20);
    await expect(pending).rejects.toThrow('stopped');
  });
});
