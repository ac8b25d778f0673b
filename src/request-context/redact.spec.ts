import { redactCredentials } from './redact';
import { callerRequestId } from './request-id';

describe('redactCredentials', () => {
  it('hides API keys, percent-encoded or not, and session JWTs; leaves the rest of the URL', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtZW1iZXIifQ.c2lnbmF0dXJl';
    expect(redactCredentials(`/v1/organization?api_key=luci_abcDEF123&token=${jwt}&x=luci%5Fabc9&page=2`)).toBe(
      '/v1/organization?api_key=luci_[REDACTED]&token=eyJ[REDACTED]&x=luci_[REDACTED]&page=2',
    );
    expect(redactCredentials('/v1/datasets/ds_0193')).toBe('/v1/datasets/ds_0193');
  });
});

describe('callerRequestId', () => {
  it('keeps a caller id that looks like an id, and drops one that is a credential', () => {
    expect(callerRequestId('trace-1234.abc:9')).toBe('trace-1234.abc:9');
    expect(callerRequestId('luci_abcDEF123')).toBeUndefined();
    expect(callerRequestId('has spaces')).toBeUndefined();
    expect(callerRequestId(['a', 'b'])).toBeUndefined();
  });
});
