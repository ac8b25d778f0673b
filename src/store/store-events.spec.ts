import { MAX_EVENT_CHARS, excerpt, parseStoreEvent } from './store-events';

const KEY = 'key_0194f3a2b1c0a1b2c3d4e5f60718';
const ORG = 'org_0194f3a2b1c0a1b2c3d4e5f60718';

describe('parseStoreEvent', () => {
  it.each([
    [{ type: 'key.revoked', keyId: KEY }],
    [{ type: 'key.revoked', keyId: KEY, revokeAtMs: 1_790_000_000_000 }],
    [{ type: 'organization.changed', organizationId: ORG }],
  ])('accepts %j', (event) => {
    expect(parseStoreEvent(JSON.stringify(event))).toEqual({ event });
  });

  it.each([
    ['not-json', 'not JSON'],
    ['', 'not JSON'],
    ['null', 'not a JSON object'],
    ['[]', 'not a JSON object'],
    ['42', 'not a JSON object'],
    ['"key.revoked"', 'not a JSON object'],
    ['{}', 'unknown type'],
    ['{"type":"organization.deleted","organizationId":"org_1"}', 'unknown type'],
    ['{"type":"organization.changed","organizationId":"org_1"}', 'malformed organization.changed'],
    [`{"type":"organization.changed","organizationId":"${KEY}"}`, 'malformed organization.changed'],
    ['{"type":"organization.changed"}', 'malformed organization.changed'],
    ['{"type":"toString"}', 'unknown type'],
    ['{"type":"__proto__"}', 'unknown type'],
    ['{"type":["key.revoked"]}', 'unknown type'],
    ['{"type":"key.revoked"}', 'malformed key.revoked'],
    ['{"type":"key.revoked","keyId":42}', 'malformed key.revoked'],
    ['{"type":"key.revoked","keyId":"key_1"}', 'malformed key.revoked'],
    [`{"type":"key.revoked","keyId":"${KEY}\\n"}`, 'malformed key.revoked'],
    [`{"type":"key.revoked","keyId":"${KEY}","revokeAtMs":"soon"}`, 'malformed key.revoked'],
    [`{"type":"key.revoked","keyId":"${KEY}","revokeAtMs":1e400}`, 'malformed key.revoked'],
    [`{"type":"key.revoked","keyId":"${KEY}","revokeAtMs":null}`, 'malformed key.revoked'],
    [`{"type":"key.revoked","keyId":"${KEY}","pad":"${'x'.repeat(MAX_EVENT_CHARS)}"}`, `longer than ${MAX_EVENT_CHARS} characters`],
  ])('refuses %j: %s', (message, problem) => {
    expect(parseStoreEvent(message)).toEqual({ problem });
  });

  it('refuses a huge message without parsing it', () => {
    const parse = jest.spyOn(JSON, 'parse');
    expect(parseStoreEvent('['.repeat(10_000_000))).toEqual({ problem: `longer than ${MAX_EVENT_CHARS} characters` });
    expect(parse).not.toHaveBeenCalled();
    parse.mockRestore();
  });
});

describe('excerpt', () => {
  it('is short, quoted, and shows control characters escaped', () => {
    expect(excerpt('not-json')).toBe('"not-json"');
    expect(excerpt('a\nb\u001b[31m')).toBe('"a\\nb\\u001b[31m"');
    expect(excerpt('x'.repeat(5000))).toBe(`"${'x'.repeat(40)}"… (5000 characters)`);
  });
});
