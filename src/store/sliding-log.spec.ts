import { SlidingLog } from './sliding-log';

describe('SlidingLog (exact sliding window)', () => {
  const max = 3;
  const window = 1000;

  it('accepts max requests, then refuses, counting remaining down', () => {
    const sut = new SlidingLog();
    expect([0, 10, 20].map((t) => sut.admit(t, max, window).remaining)).toEqual([2, 1, 0]);
    const refused = sut.admit(30, max, window);
    expect(refused.accepted).toBe(false);
    expect(refused.remaining).toBe(0);
  });

  it('frees one slot as each entry ages out, not all at once', () => {
    const sut = new SlidingLog();
    [0, 100, 200].forEach((t) => sut.admit(t, max, window));
    expect(sut.admit(999, max, window).accepted).toBe(false);
    expect(sut.admit(1000, max, window).accepted).toBe(true); // the entry at 0 left
    expect(sut.admit(1050, max, window).accepted).toBe(false); // 100 is still inside
    expect(sut.admit(1100, max, window).accepted).toBe(true);
  });

  it('never holds more than max accepted requests in any window-long interval', () => {
    const sut = new SlidingLog();
    const accepted: number[] = [];
    for (let t = 0; t < 10_000; t += 7) if (sut.admit(t, max, window).accepted) accepted.push(t);
    for (const start of accepted) {
      expect(accepted.filter((t) => t >= start && t < start + window).length).toBeLessThanOrEqual(max);
    }
    // and it is not a fixed window: it admits as soon as a slot frees
    expect(accepted.length).toBeGreaterThanOrEqual(Math.floor(10_000 / window) * max - max);
  });

  it('does not count refused requests', () => {
    const sut = new SlidingLog();
    [0, 1, 2].forEach((t) => sut.admit(t, max, window));
    for (let t = 3; t < 1000; t++) sut.admit(t, max, window);
    expect(sut.admit(1000, max, window).accepted).toBe(true);
  });

  it('tells an honest retry time and reset time', () => {
    const sut = new SlidingLog();
    [100, 400, 700].forEach((t) => sut.admit(t, max, window));
    const refused = sut.admit(800, max, window);
    expect(refused.retryAfterMs).toBe(300); // the entry at 100 leaves at 1100
    expect(refused.resetAtMs).toBe(1100);
    expect(sut.admit(800 + refused.retryAfterMs - 1, max, window).accepted).toBe(false);
    expect(sut.admit(800 + refused.retryAfterMs, max, window).accepted).toBe(true);
  });

  it('after the limit is lowered, waits for enough entries to leave', () => {
    const sut = new SlidingLog();
    [0, 100, 200, 300].forEach((t) => sut.admit(t, 4, window));
    const refused = sut.admit(400, 2, window);
    expect(refused.accepted).toBe(false);
    // 4 entries, limit 2: the third-oldest (200) must leave before the count is under the limit
    expect(refused.retryAfterMs).toBe(200 + window - 400);
  });

  it('is idle once every entry has left the window', () => {
    const sut = new SlidingLog();
    sut.admit(0, max, window);
    expect(sut.isIdle(999)).toBe(false);
    expect(sut.isIdle(1000)).toBe(true);
  });
});
