import { LucitraApiError } from './errors';

describe('LucitraApiError.fromResponse', () => {
  it('reads every field of the envelope', async () => {
    const body = {
      error: {
        code: 'VALIDATION_FAILED', message: 'name must be a string', request_id: 'req_abc',
        details: [{ field: 'name', message: 'name must be a string' }],
      },
    };
    const sut = await LucitraApiError.fromResponse(new Response(JSON.stringify(body), { status: 400, headers: { 'X-Request-Id': 'req_other' } }));
    expect(sut).toBeInstanceOf(Error);
    expect(sut).toMatchObject({
      name: 'LucitraApiError', status: 400, code: 'VALIDATION_FAILED', message: 'name must be a string',
      requestId: 'req_abc', details: body.error.details, retryAfter: undefined, upgradeUrl: undefined,
    });
  });

  it('carries upgrade_url and retry_after', async () => {
    const enterprise = { error: { code: 'ENTERPRISE_REQUIRED', message: 'm', request_id: 'req_1', upgrade_url: 'https://example.test/billing' } };
    expect(await LucitraApiError.fromResponse(new Response(JSON.stringify(enterprise), { status: 403 }))).toMatchObject({ upgradeUrl: 'https://example.test/billing' });
    const limited = { error: { code: 'RATE_LIMITED', message: 'm', request_id: 'req_2', retry_after: 7 } };
    expect(await LucitraApiError.fromResponse(new Response(JSON.stringify(limited), { status: 429 }))).toMatchObject({ retryAfter: 7 });
  });

  it('a body that is not the envelope: code from the status, request id and Retry-After from the headers', async () => {
    const sut = await LucitraApiError.fromResponse(
      new Response('<html>Service Unavailable</html>', { status: 503, statusText: 'Service Unavailable', headers: { 'X-Request-Id': 'req_hdr', 'Retry-After': '3' } }),
    );
    expect(sut).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE', message: 'HTTP 503 Service Unavailable', requestId: 'req_hdr', retryAfter: 3 });
    expect(await LucitraApiError.fromResponse(new Response('', { status: 502 }))).toMatchObject({ code: 'INTERNAL_ERROR', requestId: undefined });
  });
});
