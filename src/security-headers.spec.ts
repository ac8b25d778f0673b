import { API_HEADERS, DOCS_HEADERS, securityHeaders } from './security-headers';

describe('security headers', () => {
  it('give JSON answers only the headers an API needs (OWASP REST), no-store included, computed once', () => {
    expect(API_HEADERS).toEqual({
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none';frame-ancestors 'none'",
      'cross-origin-resource-policy': 'same-site',
      'referrer-policy': 'no-referrer',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    });
    expect(Object.isFrozen(API_HEADERS)).toBe(true);
  });

  it('give the docs page a CSP that loads its own scripts and styles, and nothing else', () => {
    expect(DOCS_HEADERS['content-security-policy']).toBe(
      "default-src 'self';script-src 'self';style-src 'self' 'unsafe-inline';img-src 'self' data:;frame-ancestors 'none';base-uri 'none';form-action 'none'",
    );
    expect(DOCS_HEADERS['x-frame-options']).toBe('DENY');
    expect(DOCS_HEADERS['cross-origin-resource-policy']).toBe('same-site');
    expect(Object.isFrozen(DOCS_HEADERS)).toBe(true);
  });

  it('fails at start, not per request, when helmet refuses the options', () => {
    expect(() => securityHeaders({ contentSecurityPolicy: { useDefaults: false, directives: { 'default-src': ["'self';"] } } })).toThrow();
  });
});
