import { describeFailure, isUnavailable } from './to-app-error';

describe('describeFailure', () => {
  it('names each link of a database failure by type and code, without its message or stack', () => {
    const driver = Object.assign(new Error('terminating connection due to administrator command'), { name: 'DatabaseError', code: '57P01' });
    const prisma = Object.assign(new Error('Invalid `prisma.apiKey.findUnique()` invocation: where: { keyHash: "9f86d08…" }'), {
      name: 'PrismaClientKnownRequestError',
      code: 'P2039',
      meta: { driverAdapterError: driver },
    });
    const described = describeFailure(prisma);
    expect(described).toEqual([
      { type: 'PrismaClientKnownRequestError', code: 'P2039' },
      { type: 'DatabaseError', code: '57P01' },
    ]);
    expect(JSON.stringify(described)).not.toMatch(/keyHash|invocation|at /);
  });

  it('keeps the message of a programming error, which describes code, not data — still without the stack', () => {
    let failure: unknown;
    try {
      (undefined as unknown as { x: number }).x;
    } catch (error) {
      failure = error;
    }
    expect(describeFailure(failure)).toEqual([{ type: 'TypeError', message: expect.stringContaining("reading 'x'") }]);
  });
});

describe('isUnavailable', () => {
  const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });

  it('takes the replies of a Redis Cluster in motion for an unavailable dependency (503), not a bug', () => {
    for (const message of ['MOVED 8640 127.0.0.1:7001', 'ASK 8640 127.0.0.1:7002', 'CLUSTERDOWN The cluster is down', 'TRYAGAIN Multiple keys request during rehashing of slot', 'READONLY You can\'t write against a read only replica.', 'LOADING Redis is loading the dataset in memory']) {
      expect({ message, unavailable: isUnavailable(reply(message)) }).toEqual({ message, unavailable: true });
    }
    expect(isUnavailable(new Error('Too many Cluster redirections. Last error: Error: Connection is closed.'))).toBe(true);
  });

  it('keeps other Redis replies bugs (500)', () => {
    for (const message of ['WRONGTYPE Operation against a key holding the wrong kind of value', 'ERR syntax error', 'NOSCRIPT No matching script', 'ERR MOVED is not a command']) {
      expect({ message, unavailable: isUnavailable(reply(message)) }).toEqual({ message, unavailable: false });
    }
  });
});
