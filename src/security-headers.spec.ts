import { securityHeaders } from './security-headers';

describe('securityHeaders', () => {
  it('is the header set helmet sets per request with our options, computed once', () => {
    const headers = securityHeaders();
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['cross-origin-resource-policy']).toBe('same-site');
    expect(headers['content-security-policy']).toBe(
      "default-src 'self';script-src 'self';style-src 'self' 'unsafe-inline';img-src 'self' data:;frame-ancestors 'none';base-uri 'none';form-action 'none'",
    );
    expect(Object.keys(headers).sort()).toEqual([
      'content-security-policy', 'cross-origin-opener-policy', 'cross-origin-resource-policy', 'origin-agent-cluster',
      'referrer-policy', 'strict-transport-security', 'x-content-type-options', 'x-dns-prefetch-control',
      'x-download-options', 'x-frame-options', 'x-permitted-cross-domain-policies', 'x-xss-protection',
    ]);
    expect(Object.isFrozen(headers)).toBe(true);
  });

  it('fails at start, not per request, when helmet refuses the options', () => {
    expect(() => securityHeaders({ contentSecurityPolicy: { useDefaults: false, directives: { 'default-src': ["'self';"] } } })).toThrow();
  });
});
