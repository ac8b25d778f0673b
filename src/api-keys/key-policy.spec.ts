import type { ApiKeyPrincipal, MemberPrincipal } from '../auth/principal';
import type { ApiKey } from '../generated/prisma/client';
import { AppError } from '../errors/app-error';
import { assertMayRotate, expiryProblem, isWithinPlatformLimit, operatorLimitProblems, peakRequests, rateLimitProblem } from './key-policy';

const PLATFORM = { max: 100, windowSeconds: 60 };
const organization = { id: 'org_1', name: 'Org', stytchOrganizationId: null, leakResponse: 'revoke' as const, createdAt: new Date(0) };
const T = Date.parse('2030-01-01T00:00:00.000Z');

function keyPrincipal(expiresAtMs: number | null): ApiKeyPrincipal {
  return { kind: 'api_key', requestId: 'req_1', organization, key: { id: 'key_1', organizationId: 'org_1', expiresAtMs, revokeAtMs: null } };
}
const member = { kind: 'member', requestId: 'req_1', organization, memberId: 'member_1', roles: ['stytch_admin'] } as unknown as MemberPrincipal;
const keyExpiring = (expiresAt: Date | null) => ({ id: 'key_2', expiresAt }) as ApiKey;

describe('peakRequests', () => {
  it.each([
    // [max, own window, interval, peak]
    [100, 60, 60, 100],
    [10, 1, 60, 600], // 60 one-second windows
    [10, 7, 60, 90], // ⌈60/7⌉ = 9 windows
    [10, 60, 60, 10],
    [10, 120, 60, 10], // a longer window fits once
    [1, 86_400, 60, 1],
    [1_000_000, 1, 86_400, 86_400_000_000], // no overflow: well inside 2^53
  ])('%i per %i s admits at most … in %i s: %i', (max, windowSeconds, interval, peak) => {
    expect(peakRequests({ max, windowSeconds }, interval)).toBe(peak);
  });
});

describe('isWithinPlatformLimit (platform 100 per 60 s)', () => {
  it.each([
    [{ max: 100, windowSeconds: 60 }, true], // the platform's own limit
    [{ max: 5, windowSeconds: 60 }, true],
    [{ max: 50, windowSeconds: 30 }, true], // 2 × 50
    [{ max: 51, windowSeconds: 30 }, false], // 2 × 51
    [{ max: 33, windowSeconds: 20 }, true], // 3 × 33 = 99
    [{ max: 34, windowSeconds: 20 }, false],
    [{ max: 25, windowSeconds: 17 }, true], // ⌈60/17⌉ = 4 → 100
    [{ max: 26, windowSeconds: 17 }, false],
    [{ max: 1, windowSeconds: 1 }, true], // 60 in a minute
    [{ max: 2, windowSeconds: 1 }, false], // 120 in a minute
    [{ max: 100, windowSeconds: 3600 }, true],
    [{ max: 101, windowSeconds: 3600 }, false], // a longer window still admits all of it in one minute
    [{ max: 1_000_000, windowSeconds: 1 }, false],
  ])('%o → %s', (limit, allowed) => {
    expect(isWithinPlatformLimit(limit, PLATFORM)).toBe(allowed);
  });

  it('words a refusal with the platform limit and the rule, on the field rate_limit', () => {
    expect(rateLimitProblem({ max: 5, windowSeconds: 60 }, PLATFORM)).toBeNull();
    const sut = rateLimitProblem({ max: 1_000_000, windowSeconds: 1 }, PLATFORM)!;
    expect(sut.field).toBe('rate_limit');
    expect(sut.message).toContain('100 requests per 60 seconds');
    expect(sut.message).toContain('max × ⌈60 / window_seconds⌉ must be at most 100');
    expect(sut.message).toContain('60000000');
  });
});

describe('expiryProblem', () => {
  it('bounds a key-made key by its creator’s expiry: later and never are refused, earlier and equal allowed', () => {
    const creator = keyPrincipal(T);
    expect(expiryProblem(creator, new Date(T - 1))).toBeNull();
    expect(expiryProblem(creator, new Date(T))).toBeNull();
    for (const expiresAt of [new Date(T + 1), null]) {
      const problem = expiryProblem(creator, expiresAt)!;
      expect(problem.field).toBe('expires_at');
      expect(problem.message).toContain('2030-01-01T00:00:00.000Z');
    }
  });

  it('does not bound keys made by a key that never expires, nor by members', () => {
    expect(expiryProblem(keyPrincipal(null), null)).toBeNull();
    expect(expiryProblem(member, null)).toBeNull();
  });
});

describe('assertMayRotate', () => {
  it('lets an expiring key rotate only keys that expire no later than it does', () => {
    const creator = keyPrincipal(T);
    expect(() => assertMayRotate(creator, keyExpiring(new Date(T)))).not.toThrow();
    expect(() => assertMayRotate(creator, keyExpiring(new Date(T - 1000)))).not.toThrow();
    for (const expiresAt of [new Date(T + 1), null]) {
      let error: unknown;
      try {
        assertMayRotate(creator, keyExpiring(expiresAt));
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('FORBIDDEN');
    }
  });

  it('does not bound rotation by keys that never expire, nor by members', () => {
    expect(() => assertMayRotate(keyPrincipal(null), keyExpiring(null))).not.toThrow();
    expect(() => assertMayRotate(member, keyExpiring(null))).not.toThrow();
  });
});

describe('operatorLimitProblems', () => {
  it('accepts any whole limit within the bounds, looser than the platform included', () => {
    expect(operatorLimitProblems({ max: 1_000_000, windowSeconds: 1 })).toEqual([]);
  });

  it.each([
    [{ max: 0, windowSeconds: 60 }, ['max']],
    [{ max: 1.5, windowSeconds: 60 }, ['max']],
    [{ max: 1_000_001, windowSeconds: 60 }, ['max']],
    [{ max: 10, windowSeconds: 0 }, ['window_seconds']],
    [{ max: Number.NaN, windowSeconds: 86_401 }, ['max', 'window_seconds']],
  ])('refuses %o', (limit, fields) => {
    expect(operatorLimitProblems(limit).map((problem) => problem.field)).toEqual(fields);
  });
});
