import { retryDelayMs } from './retry-schedule';

describe('retryDelayMs', () => {
  it('doubles from the base, the jitter taking at most half', () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, 1000, () => 1))).toEqual([1000, 2000, 4000, 8000]);
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, 1000, () => 0))).toEqual([500, 1000, 2000, 4000]);
  });

  it('stops growing at an hour, however many attempts', () => {
    expect(retryDelayMs(40, 5000, () => 1)).toBe(3_600_000);
    expect(retryDelayMs(1000, 5000, () => 0)).toBe(1_800_000);
  });
});
