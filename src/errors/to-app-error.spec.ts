import { describeFailure } from './to-app-error';

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
