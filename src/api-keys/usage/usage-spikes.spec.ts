import { HOUR_MS } from '../../store/admission-store';
import { baseline, hourOf, raisedFlags } from './usage-spikes';

const HOUR = Date.UTC(2026, 10, 30, 12);
const POLICY = { multiplier: 10, minRequests: 1000, ipMultiplier: 5, minIps: 20 };

describe('baseline', () => {
  it('is the mean of the busy hours', () => {
    expect(baseline([100, 300, 200], HOUR - 48 * HOUR_MS, HOUR)).toBe(200);
  });

  it('is 0 for a key a day old or more that was idle all week', () => {
    expect(baseline([], HOUR - 30 * 24 * HOUR_MS, HOUR)).toBe(0);
  });

  it('is none for a key with less than a day of history, or none at all', () => {
    expect(baseline([100], HOUR - 23 * HOUR_MS, HOUR)).toBeNull();
    expect(baseline([100], HOUR - 24 * HOUR_MS, HOUR)).toBe(100);
    expect(baseline([], null, HOUR)).toBeNull();
  });
});

describe('raisedFlags', () => {
  const quiet = { requests: 500, distinctIps: 3, baselineRequests: 100, baselineIps: 2 };

  it('raises none for an hour within its usual', () => {
    expect(raisedFlags(quiet, POLICY)).toEqual([]);
  });

  it('raises usage_spike above multiplier × baseline once the floor is reached, not before', () => {
    expect(raisedFlags({ ...quiet, requests: 1001 }, POLICY)).toEqual([{ kind: 'requests', observed: 1001, baseline: 100 }]);
    // exactly 10 × baseline is not above it
    expect(raisedFlags({ ...quiet, requests: 1000 }, POLICY)).toEqual([]);
    // far above a tiny baseline, but under the floor
    expect(raisedFlags({ ...quiet, requests: 999, baselineRequests: 1 }, POLICY)).toEqual([]);
    expect(raisedFlags({ ...quiet, requests: 1000, baselineRequests: 0 }, POLICY)).toEqual([{ kind: 'requests', observed: 1000, baseline: 0 }]);
  });

  it('raises many_ips the same way on distinct IPs, alone or with usage_spike', () => {
    expect(raisedFlags({ ...quiet, distinctIps: 20, baselineIps: 3.9 }, POLICY)).toEqual([{ kind: 'ips', observed: 20, baseline: 3.9 }]);
    expect(raisedFlags({ ...quiet, distinctIps: 20, baselineIps: 4 }, POLICY)).toEqual([]);
    expect(raisedFlags({ ...quiet, distinctIps: 19, baselineIps: 0 }, POLICY)).toEqual([]);
    expect(raisedFlags({ requests: 5000, distinctIps: 50, baselineRequests: 10, baselineIps: 1 }, POLICY).map((flag) => flag.kind)).toEqual(['requests', 'ips']);
  });

  it('judges nothing without a baseline', () => {
    expect(raisedFlags({ requests: 1_000_000, distinctIps: 1000, baselineRequests: null, baselineIps: null }, POLICY)).toEqual([]);
  });
});

describe('hourOf', () => {
  it('is the start of the hour', () => {
    expect(hourOf(HOUR + 59 * 60_000 + 999)).toBe(HOUR);
    expect(hourOf(HOUR)).toBe(HOUR);
  });
});
