import { LucitraClient } from './client';

/** A client whose fetch answers from `reply` and records the requests. */
function clientWith(reply: (request: Request) => Response) {
  const requests: Request[] = [];
  const sut = new LucitraClient({
    baseUrl: 'http://api.test',
    apiKey: 'luci_test',
    fetch: async (request) => {
      requests.push(request);
      return reply(request);
    },
  });
  return { sut, requests };
}

const json = (body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json', ...headers } });

describe('LucitraClient', () => {
  it('sends the key as a bearer credential', async () => {
    const { sut, requests } = clientWith(() => json({ id: 'org_1' }));
    await sut.GET('/v1/organization');
    expect(requests[0].headers.get('authorization')).toBe('Bearer luci_test');
  });

  it('keeps the rate-limit state of the last response that carried it', async () => {
    let limited = true;
    const { sut } = clientWith(() =>
      json({}, limited ? { 'X-RateLimit-Limit': '100', 'X-RateLimit-Remaining': '7', 'X-RateLimit-Reset': '1767225600' } : {}),
    );
    await sut.GET('/v1/organization');
    expect(sut.rateLimit).toEqual({ limit: 100, remaining: 7, reset: 1767225600 });
    limited = false;
    await sut.GET('/healthz');
    expect(sut.rateLimit).toEqual({ limit: 100, remaining: 7, reset: 1767225600 });
  });

  it('aborts a call while it waits to retry', async () => {
    const { sut, requests } = clientWith(() => new Response(null, { status: 429, headers: { 'Retry-After': '30' } }));
    const controller = new AbortController();
    const pending = sut.GET('/v1/organization', { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('caller gave up')), 20);
    await expect(pending).rejects.toThrow('caller gave up');
    expect(requests).toHaveLength(1);
  });

  it('paginate stops on a cursor handed back unchanged instead of looping', async () => {
    const { sut } = clientWith(() => json({ data: [{ id: 'a' }], next_cursor: 'same' }));
    const seen: string[] = [];
    const walk = async () => {
      for await (const item of sut.paginate('/v1/datasets')) seen.push(item.id);
    };
    await expect(walk()).rejects.toThrow('/v1/datasets returned the same next_cursor twice');
    expect(seen).toEqual(['a', 'a']);
  });
});
