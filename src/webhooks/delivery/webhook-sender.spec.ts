import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SendRequest, send } from './webhook-sender';

describe('send', () => {
  let server: http.Server;
  let port: number;
  const seen: string[] = [];
  const base = (): Omit<SendRequest, 'url'> => ({ body: '{"a":1}', headers: { 'webhook-id': 'evt_1' }, timeoutMs: 500, allowPrivate: true });

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      seen.push(request.url!);
      if (request.url === '/redirect') response.writeHead(302, { location: '/elsewhere' }).end();
      else if (request.url === '/hang') return; // never answers
      else if (request.url === '/big') response.writeHead(200).end('x'.repeat(1_000_000));
      else response.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => (seen.length = 0));

  it('counts a 2xx as delivered, without reading the body', async () => {
    expect(await send({ ...base(), url: `http://127.0.0.1:${port}/big` })).toMatchObject({ statusCode: 200, failure: null });
  });

  it('does not follow a redirect', async () => {
    expect(await send({ ...base(), url: `http://127.0.0.1:${port}/redirect` })).toMatchObject({ statusCode: 302, failure: 'http_status' });
    expect(seen).toEqual(['/redirect']);
  });

  it('gives up on a receiver that does not answer within the timeout', async () => {
    const result = await send({ ...base(), url: `http://127.0.0.1:${port}/hang` });
    expect(result).toMatchObject({ statusCode: null, failure: 'timeout' });
    expect(result.durationMs).toBeGreaterThanOrEqual(450);
  });

  it('stops at once when the service is stopping', async () => {
    const stopping = new AbortController();
    const sent = send({ ...base(), url: `http://127.0.0.1:${port}/hang`, timeoutMs: 10_000, signal: stopping.signal });
    stopping.abort();
    expect((await sent).durationMs).toBeLessThan(1_000);
  });

  it('names a refused connection', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const free = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(await send({ ...base(), url: `http://127.0.0.1:${free}/` })).toMatchObject({ statusCode: null, failure: 'connection_failed' });
  });

  it('refuses a private address, literal or resolved, before connecting, unless private targets are allowed', async () => {
    for (const host of ['127.0.0.1', 'localhost']) {
      expect(await send({ ...base(), allowPrivate: false, url: `http://${host}:${port}/private` })).toMatchObject({ statusCode: null, failure: 'address_refused' });
    }
    expect(seen).toEqual([]);
    expect(await send({ ...base(), url: `http://localhost:${port}/private` })).toMatchObject({ statusCode: 204, failure: null });
  });
});
