import type request from 'supertest';
import { RawResponse, rawRequest } from './support/raw-http';
import { SeededOrganization, TestApp, backends, expectEnvelope, seedOrganization, startApp } from './support/test-app';

/**
 * A request with two Authorization headers is refused: Node keeps the first and drops the rest, so
 * a proxy in front that reads the last one would disagree with us about who is calling. Sent with
 * node:http and a flat header list — supertest and fetch merge or refuse repeated names.
 */

const ONE_HEADER = 'Send exactly one Authorization header.';
const asResponse = (response: RawResponse) => response as unknown as request.Response;

function expectRefused(response: RawResponse): void {
  expect(expectEnvelope(asResponse(response), 401, 'UNAUTHORIZED').message).toBe(ONE_HEADER);
}

describe.each(backends())('two Authorization headers on $name', (backend) => {
  let target: TestApp;
  let seeded: SeededOrganization;

  beforeAll(async () => {
    target = await startApp(backend, { authFailureMax: 1_000_000 });
    seeded = await seedOrganization(target);
  });
  afterAll(() => target?.close());

  it('serves the key when it comes in one header', async () => {
    const response = await rawRequest(target.url, 'GET', '/v1/organization', ['Authorization', `Bearer ${seeded.key}`]);
    expect(response.status).toBe(200);
  });

  it.each([
    ['the valid key first, junk second', (key: string) => ['Authorization', `Bearer ${key}`, 'Authorization', 'Bearer junk']],
    ['junk first, the valid key second', (key: string) => ['Authorization', 'Bearer junk', 'Authorization', `Bearer ${key}`]],
    ['the same key twice', (key: string) => ['Authorization', `Bearer ${key}`, 'Authorization', `Bearer ${key}`]],
    ['names in different case', (key: string) => ['authorization', `Bearer ${key}`, 'AUTHORIZATION', 'Bearer junk']],
    ['an empty one after the key', (key: string) => ['Authorization', `Bearer ${key}`, 'Authorization', '']],
    ['a session token after the key', (key: string) => ['Authorization', `Bearer ${key}`, 'Authorization', 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln']],
    ['three of them, around other headers', (key: string) => ['Authorization', `Bearer ${key}`, 'Accept', '*/*', 'Authorization', 'x', 'Authorization', 'y']],
  ])('refuses %s with 401 UNAUTHORIZED', async (_name, headers) => {
    for (const [method, path] of [['GET', '/v1/organization'], ['GET', '/v1/api-keys'], ['DELETE', `/v1/api-keys/${seeded.keyId}`], ['GET', '/v1/no-such-route']]) {
      const response = await rawRequest(target.url, method, path, headers(seeded.key));
      expectRefused(response);
      // refused before admission: no rate-limit headers, nothing counted against the key
      expect(response.headers['x-ratelimit-limit']).toBeUndefined();
    }
    // the key was not revoked by the refused DELETE
    expect((await rawRequest(target.url, 'GET', '/v1/organization', ['Authorization', `Bearer ${seeded.key}`])).status).toBe(200);
  });
});

describe('two Authorization headers on GET /metrics behind METRICS_TOKEN', () => {
  let target: TestApp;

  beforeAll(async () => {
    target = await startApp(backends()[0], { metricsToken: 'scrape-me' });
  });
  afterAll(() => target?.close());

  it('serves the token in one header, and refuses it beside another', async () => {
    expect((await rawRequest(target.url, 'GET', '/metrics', ['Authorization', 'Bearer scrape-me'])).status).toBe(200);
    expectRefused(await rawRequest(target.url, 'GET', '/metrics', ['Authorization', 'Bearer scrape-me', 'Authorization', 'Bearer junk']));
    expectRefused(await rawRequest(target.url, 'GET', '/metrics', ['Authorization', 'Bearer junk', 'authorization', 'Bearer scrape-me']));
  });
});
