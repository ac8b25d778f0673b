import type request from 'supertest';
import { generateKey } from '../src/api-keys/key-format';
import { MAX_LOGGED_URL_LENGTH } from '../src/request-context/redact';
import { LogCapture } from './support/log-capture';
import { RawResponse, rawRequest } from './support/raw-http';
import { StytchFixture, hideStytchBaseUrlWarning } from './support/stytch-fixture';
import { TestApp, backends, expectEnvelope, seedOrganization, startApp } from './support/test-app';

/**
 * The request log line (CONTRACT §1, LOG_LEVEL=info) never carries a credential pasted into the URL
 * or the caller's X-Request-Id, however it is spelled, and stays short whatever the URL's length.
 */

const percentEncoded = (text: string) => [...text].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`).join('');

/** Every spelling of the key a client (or an attacker probing the log) could send. */
function spellings(key: string): Array<[string, string]> {
  const rest = key.slice('luci_'.length);
  return [
    ['as is', key],
    ['in capitals', key.toUpperCase()],
    ['in mixed case', `LuCi_${rest}`],
    ['with an encoded first letter', `%6cuci_${rest}`],
    ['with an encoded prefix', `%4C%55%43%49%5F${rest}`],
    ['with an encoded underscore', `luci%5f${rest}`],
    ['encoded twice', `%256cuci_${rest}`],
    ['entirely encoded', percentEncoded(key)],
    ['behind an encoded delimiter', `x%3D${key}`],
  ];
}

/** Any 8 characters in a row of the secret after `luci_`, in any case. */
function expectNoTraceOf(key: string, text: string): void {
  const rest = key.slice('luci_'.length).toLowerCase();
  const lower = text.toLowerCase();
  for (let i = 0; i + 8 <= rest.length; i += 1) {
    const trace = rest.slice(i, i + 8);
    expect(lower.includes(trace) ? `${trace} found` : 'absent').toBe('absent');
  }
}

const asResponse = (response: RawResponse) => response as unknown as request.Response;

beforeAll(hideStytchBaseUrlWarning);

describe.each(backends())('the request log on $name', (backend) => {
  let target: TestApp;
  let fixture: StytchFixture;
  let capture: LogCapture;

  beforeAll(async () => {
    capture = LogCapture.start(); // from the start: the app logs at info and nothing should reach the console
    fixture = await StytchFixture.start();
    target = await startApp(backend, { logLevel: 'info', stytch: fixture.config, authFailureMax: 1_000_000 });
  });
  afterAll(async () => {
    await target?.close();
    await fixture?.close();
    capture.stop();
  });

  it('shows no part of an API key in the URL, however it is spelled or wherever it is', async () => {
    const key = generateKey().secret;
    const owner = await seedOrganization(target);
    const urls: string[] = [];
    for (const [, written] of spellings(key)) {
      for (const [path, authorized] of [
        [`/v1/organization?api_key=${written}&page=2`, false],
        [`/v1/datasets/${written}`, true],
        [`/nope?a=1&key=${written}#frag`, false],
      ] as const) {
        const response = await rawRequest(target.url, 'GET', path, authorized ? { authorization: `Bearer ${owner.key}` } : {});
        const line = await capture.requestLine(String(response.headers['x-request-id']));
        const url = (line.req as { url: string }).url;
        expect(url).toMatch(/\[REDACTED\]/);
        expect(line.msg).toBe(`GET ${url} ${response.status}`);
        urls.push(url);
      }
    }
    expect(urls).toContain('/v1/organization?api_key=luci_[REDACTED]&page=2');
    expect(urls).toContain('/v1/datasets/luci_[REDACTED]');
    expectNoTraceOf(key, capture.text);
  });

  it('shows no session JWT in the URL, encoded or not', async () => {
    const token = await fixture.mint();
    const signature = token.split('.')[2];
    for (const written of [token, `%65yJ${token.slice(3)}`, `Bearer%20${token}`]) {
      const response = await rawRequest(target.url, 'GET', `/v1/session?token=${written}`);
      const line = await capture.requestLine(String(response.headers['x-request-id']));
      expect((line.req as { url: string }).url).toBe('/v1/session?token=eyJ[REDACTED]');
    }
    expect(capture.text).not.toContain(signature.slice(0, 16));
  });

  it('drops a caller X-Request-Id that is a credential, and keeps one that is an id', async () => {
    const key = generateKey().secret;
    const withKey = await rawRequest(target.url, 'GET', '/healthz', { 'x-request-id': key });
    expect((await capture.requestLine(String(withKey.headers['x-request-id']))).req).not.toHaveProperty('caller_request_id');
    const withId = await rawRequest(target.url, 'GET', '/healthz', { 'x-request-id': 'trace-42' });
    expect((await capture.requestLine(String(withId.headers['x-request-id']))).req).toMatchObject({ caller_request_id: 'trace-42' });
    expectNoTraceOf(key, capture.text);
  });

  it('logs at most 2,048 characters of a crafted URL, saying how much it left out', async () => {
    const crafted = `/nope?a=${'eyJ'.repeat(5300)}`;
    const response = await rawRequest(target.url, 'GET', crafted);
    expectEnvelope(asResponse(response), 404, 'NOT_FOUND');
    const line = await capture.requestLine(String(response.headers['x-request-id']));
    expect((line.req as { url: string }).url).toBe(`/nope?a=…[truncated ${crafted.length - 8} chars]`);
    expect(JSON.stringify(line).length).toBeLessThan(MAX_LOGGED_URL_LENGTH);

    const long = `/v1/organization?${'page=2&'.repeat(1000)}key=${generateKey().secret}`;
    const refused = await rawRequest(target.url, 'GET', long);
    expectEnvelope(asResponse(refused), 401, 'UNAUTHORIZED');
    const url = ((await capture.requestLine(String(refused.headers['x-request-id']))).req as { url: string }).url;
    expect(url).toMatch(/^\/v1\/organization\?(page=2&)+(page=)?…\[truncated \d+ chars\]$/);
    expect(url.length).toBeLessThanOrEqual(MAX_LOGGED_URL_LENGTH + '…[truncated 5000 chars]'.length);
  });
});
