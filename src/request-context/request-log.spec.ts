import Fastify, { FastifyInstance } from 'fastify';
import net from 'node:net';
import pino from 'pino';
import { Writable } from 'node:stream';
import type { RequestContext } from './request-context';
import { RequestLog } from './request-log';

describe('RequestLog', () => {
  let app: FastifyInstance;
  let lines: Record<string, unknown>[];
  let port: number;

  beforeEach(async () => {
    lines = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        callback();
      },
    });
    app = Fastify();
    app.decorateRequest('context', null as unknown as RequestContext);
    new RequestLog(pino({ level: 'info' }, sink)).register(app);
    app.get('/v1/things', async () => ({ ok: true }));
    app.post('/v1/things', async () => ({ ok: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as net.AddressInfo).port;
  });
  afterEach(() => app.close());

  it('writes one line per answered request, with credentials in the URL redacted', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/v1/things?api_key=luci_abcDEF123`, { headers: { 'x-request-id': 'trace-1' } });
    await response.arrayBuffer();
    await waitFor(() => lines.length === 1);
    expect(lines[0]).toMatchObject({
      level: 30,
      request_id: expect.any(String),
      req: { method: 'GET', url: '/v1/things?api_key=luci_[REDACTED]', caller_request_id: 'trace-1' },
      res: { status: 200 },
      msg: 'GET /v1/things?api_key=luci_[REDACTED] 200',
    });
  });

  it('writes a line for a request whose caller hung up before the answer', async () => {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    // half a body, then gone
    socket.write('POST /v1/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":');
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    await waitFor(() => lines.length === 1);
    expect(lines[0]).toMatchObject({ request_id: expect.any(String), req: { method: 'POST', url: '/v1/things' }, aborted: true });
    expect(lines[0].res).toBeUndefined();
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 2000) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  // and nothing more arrives
  await new Promise((resolve) => setTimeout(resolve, 50));
}
