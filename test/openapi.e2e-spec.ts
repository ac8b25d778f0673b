import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { OpenAPIObject, OperationObject, SchemaObject } from '@nestjs/swagger';
import { buildOpenApiDocument, OPENAPI_JSON_PATH } from '../src/openapi';
import { isEnterprisePath } from '../src/tiers/enterprise';
import { Exchange, OpenApiValidator } from './support/openapi-validator';
import { startApp, TestApp } from './support/test-app';

const ROOT = path.resolve(__dirname, '..');
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

function operations(document: OpenAPIObject): [string, string, OperationObject][] {
  return Object.entries(document.paths).flatMap(([route, item]) =>
    METHODS.filter((method) => item[method]).map((method) => [route, method, item[method]!] as [string, string, OperationObject]),
  );
}

describe('the OpenAPI document', () => {
  let target: TestApp;
  let document: OpenAPIObject;
  let dir: string;

  beforeAll(async () => {
    target = await startApp({ name: 'embedded', shared: false }, { publicUrl: 'https://api.validate.example' });
    const response = await target.http.get(OPENAPI_JSON_PATH).expect(200);
    document = response.body as OpenAPIObject;
    dir = mkdtempSync(path.join(tmpdir(), 'lv-openapi-'));
  });
  afterAll(async () => {
    await target?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('passes redocly lint (recommended rules and redocly.yaml) without an error, offline', async () => {
    const file = path.join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(document, null, 2));
    const lint = await promisify(execFile)(path.join(ROOT, 'node_modules/.bin/redocly'), ['lint', file, '--format=json', '--config', path.join(ROOT, 'redocly.yaml')], {
      cwd: ROOT,
      // No telemetry, no update check: the linter never calls out.
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', CI: 'true' },
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    const report = JSON.parse(lint.stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; severity: string; message: string }[] };
    const warnings = report.problems.filter((problem) => problem.severity === 'warn');
    if (warnings.length > 0) console.warn(`redocly lint warnings:\n${warnings.map((w) => `${w.ruleId}: ${w.message}`).join('\n')}`);
    expect(report.problems.filter((problem) => problem.severity === 'error')).toEqual([]);
    expect(report.totals.errors).toBe(0);
  });

  it('names its server from PUBLIC_URL and its bearer scheme without claiming every credential is a JWT', () => {
    expect(document.servers).toEqual([{ url: 'https://api.validate.example' }]);
    expect(document.components?.securitySchemes?.bearer).toEqual({
      type: 'http',
      scheme: 'bearer',
      description: expect.stringContaining('luci_'),
    });
  });

  it('marks public operations public, and every /v1 operation as needing the bearer credential (but GitHub\'s signed reports)', () => {
    for (const [route, , operation] of operations(document)) {
      const bearer = route.startsWith('/v1/') && route !== '/v1/secret-scanning/github';
      expect({ route, security: operation.security }).toEqual({ route, security: bearer ? [{ bearer: [] }] : [] });
    }
  });

  it('marks exactly the Enterprise operations, and documents their 403', () => {
    for (const [route, method, operation] of operations(document)) {
      const marked = (operation as unknown as Record<string, unknown>)['x-enterprise-only'] === true;
      expect({ route, method, marked }).toEqual({ route, method, marked: isEnterprisePath(route) });
      if (marked) expect(operation.responses['403']).toMatchObject({ description: expect.stringContaining('ENTERPRISE_REQUIRED') });
    }
  });

  it('gives every operation a summary, a description, and the answers the server can give', () => {
    for (const [route, method, operation] of operations(document)) {
      const statuses = Object.keys(operation.responses);
      const expected = ['405', ...(method === 'get' ? [] : ['413', '415']), ...(route.startsWith('/v1/') ? ['400', '401', '429', '500', '503'] : [])];
      expect({ route, method, summary: Boolean(operation.summary), description: Boolean(operation.description) }).toEqual({ route, method, summary: true, description: true });
      expect({ route, method, missing: expected.filter((status) => !statuses.includes(status)) }).toEqual({ route, method, missing: [] });
    }
  });

  it('closes request bodies, writes integers as integers, and says what may be null', () => {
    const schemas = document.components!.schemas as Record<string, SchemaObject>;
    for (const name of ['CreateApiKeyDto', 'RateLimitDto', 'RotateApiKeyDto', 'CreateDatasetDto', 'CreateRecordDto', 'CreateProvenanceDto', 'SubjectDto', 'UpdateOrganizationDto', 'FoundTokenDto']) {
      expect({ name, additionalProperties: schemas[name].additionalProperties }).toEqual({ name, additionalProperties: false });
    }
    // A record's free-form data stays open.
    expect((schemas.CreateRecordDto.properties!.data as SchemaObject).additionalProperties).toBeUndefined();
    expect(schemas.RateLimitDto.properties!.max).toMatchObject({ type: 'integer', minimum: 1 });
    expect(schemas.ApiKeyView.properties!.rate_limit).toMatchObject({ type: 'object', nullable: true });
    expect(document.paths['/v1/api-keys/{id}/rotate'].post!.requestBody).toMatchObject({ required: false });
  });
});

describe('the response validator of the end-to-end suite', () => {
  let sut: OpenApiValidator;
  const key = {
    id: 'key_0193a1b2c3d4e5f60718293a4b5c', object: 'api_key', name: 'CI', environment: 'production', start: 'luci_Ab3x',
    created_at: '2026-01-01T00:00:00.000Z', last_used_at: null, expires_at: null, revoked_at: null,
    created_by: { type: 'system', id: 'test' }, rate_limit: null,
  };
  const headers = {
    'x-request-id': 'req_0123456789abcdef', 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8',
    'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '99', 'x-ratelimit-reset': '1767225600',
    'ratelimit-policy': '"default";q=100;w=60', ratelimit: '"default";r=99;t=60',
  };
  const exchange = (overrides: Partial<Exchange>): Exchange => ({
    method: 'GET', route: '/v1/api-keys/:id', url: '/v1/api-keys/x', status: 200, headers, body: JSON.stringify(key), keyAdmitted: true, ...overrides,
  });

  beforeAll(async () => {
    const target = await startApp({ name: 'embedded', shared: false });
    try {
      sut = new OpenApiValidator(buildOpenApiDocument(target.app));
    } finally {
      await target.close();
    }
  });

  it('accepts a response that matches the document', () => {
    expect(sut.violations(exchange({}))).toEqual([]);
  });

  it('refuses a body off its schema, an undeclared status, a missing header, and an unrouted answer that is not the envelope', () => {
    expect(sut.violations(exchange({ body: JSON.stringify({ ...key, rate_limit: { max: 1.5, window_seconds: 60 } }) }))).toEqual([
      expect.stringContaining('/rate_limit/max must be integer'),
    ]);
    expect(sut.violations(exchange({ status: 418 }))).toEqual([expect.stringContaining('status 418 is not declared')]);
    const { 'x-ratelimit-remaining': _dropped, ...withoutRemaining } = headers;
    expect(sut.violations(exchange({ headers: withoutRemaining }))).toEqual([expect.stringContaining('no X-RateLimit-Remaining on an answer to an API key')]);
    expect(sut.violations(exchange({ status: 404, route: '/v1/*', body: '{"message":"not found"}' }))).toEqual([
      expect.stringContaining("must have required property 'error'"),
    ]);
    expect(sut.violations(exchange({ status: 429, body: JSON.stringify({ error: { code: 'RATE_LIMITED', message: 'm', request_id: 'req_0123456789abcdef', retry_after: 0 } }) }))).toEqual(
      expect.arrayContaining([expect.stringContaining('no retry-after header'), expect.stringContaining('retry_after must be >= 1')]),
    );
  });
});
