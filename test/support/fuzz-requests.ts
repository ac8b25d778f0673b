import fc from 'fast-check';
import { RequestSpec, chunked, encodeRequest } from './fuzz-http';
import { safeDecode } from './fuzz-oracle';

/**
 * fast-check arbitraries for hostile HTTP requests against the API: every route of the OpenAPI
 * document with mutated ids, odd methods, broken Authorization headers, hostile query strings
 * and bodies. Each generated case carries tags (what kind of hostility it holds, for the report)
 * and the strings the server may legitimately echo back.
 */

export interface FuzzTargets {
  /** Route templates (`/v1/datasets/{id}`), from the OpenAPI document plus unlisted paths. */
  templates: string[];
  /** The documented method and template pairs: half the requests use one, so hostile input reaches handlers. */
  operations: Array<{ method: string; template: string }>;
  /** Real ids the fuzzer may use and lose (deleted, revoked, rotated) — never the fuzzing key's own. */
  ids: string[];
  /** The Enterprise key most requests use; it must survive the run. */
  key: string;
  /** Other credentials: a revoked key, a lower-tier key, session JWTs (valid, expired). */
  otherCredentials: string[];
  /**
   * Sent first in X-Forwarded-For (the app trusts it in this suite): the fuzzer's authentication
   * failures go to a brute-force-brake bucket of its own, not to 127.0.0.1's in the shared store.
   */
  clientIp: string;
}

export interface FuzzCase {
  bytes: Buffer;
  head: boolean;
  tags: string[];
  echoes: string[];
}

interface Part<T> {
  value: T;
  tags: string[];
  echoes: string[];
}

const part = <T>(value: T, tags: string[] = [], echoes: string[] = []): Part<T> => ({ value, tags, echoes });

const HEX = [...'0123456789abcdef'];
const hex = (length: number) => fc.string({ unit: fc.constantFrom(...HEX), minLength: length, maxLength: length });
const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Percent-encodes the UTF-8 bytes of a string (lone surrogates become U+FFFD, as any client would send). */
export function percentEncode(text: string, keep: RegExp = UNRESERVED): string {
  let out = '';
  for (const char of text) {
    if (keep.test(char)) out += char;
    else for (const byte of Buffer.from(char, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const asciiText = (maxLength = 30) => fc.string({ unit: 'grapheme-ascii', maxLength });
const anyText = (maxLength = 30) => fc.oneof(fc.string({ unit: 'grapheme', maxLength }), fc.string({ unit: 'binary', maxLength }));

const METHODS = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE').map((m) => part(m, ['method:common'])) },
  { weight: 2, arbitrary: fc.constantFrom('HEAD', 'OPTIONS').map((m) => part(m, [`method:${m}`])) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom('TRACE', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH', 'QUERY', 'PURGE', 'REPORT', 'MKACTIVITY', 'CHECKOUT', 'MERGE', 'M-SEARCH', 'NOTIFY', 'SUBSCRIBE', 'UNSUBSCRIBE', 'LINK', 'UNLINK', 'ACL', 'BIND', 'REBIND', 'UNBIND', 'SOURCE', 'CONNECT')
      .map((m) => part(m, ['method:odd'])),
  },
  { weight: 1, arbitrary: fc.constantFrom('get', 'Post', 'DELET', 'GETS', 'G ET', '').map((m) => part(m, ['method:malformed'])) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ-_!#'), minLength: 1, maxLength: 12 }).map((m) => part(m, ['method:random'])) },
);

function idArbitrary(targets: FuzzTargets): fc.Arbitrary<Part<string>> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...targets.ids).map((id) => part(id, ['id:real'], [id])) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.constantFrom('ds', 'mc', 'prov', 'cmp', 'cert', 'key', 'evt', 'org', 'req', 'x', '', 'DS'), hex(28), fc.constantFrom('', '', '0', 'Z', '_'))
        .map(([prefix, digits, tail]) => `${prefix}_${digits}${tail}`)
        .map((id) => part(id, ['id:other-prefix'], [id])),
    },
    { weight: 2, arbitrary: asciiText(40).map((s) => percentEncode(s)).map((id) => part(id, ['id:random'], [id, safeDecode(id)])) },
    {
      weight: 2,
      arbitrary: fc.string({ unit: fc.constantFrom(...'abcXYZ019-._~!$&\'()*+,;=:@'), maxLength: 30 }).map((id) => part(id, ['id:sub-delims'], [id])),
    },
    { weight: 2, arbitrary: anyText(20).map((s) => percentEncode(s)).map((id) => part(id, ['id:unicode'], [id, safeDecode(id)])) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }).map((id) => part(id, ['id:unicode-raw'], [id])) },
    { weight: 1, arbitrary: fc.integer({ min: 60, max: 20_000 }).map((n) => part('a'.repeat(n), ['id:long'], ['a'.repeat(n)])) },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom('..', '../..', '../../../../etc/passwd', '..%2f..%2f..%2fetc%2fpasswd', '%2e%2e', '%2e%2e%2f%2e%2e%2fpackage.json', '..%5c..%5cwindows', '%252e%252e%252f', '....//....//', '..;/', '.', '%2e', '%2f', '..%00', '%c0%ae%c0%ae%2f', '/..', '.%2e/.%2e/')
        .map((id) => part(id, ['id:traversal'], [id, safeDecode(id)])),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom('', 'ds_', 'key_', 'x'), fc.constantFrom('%', '%z', '%zz', '%c3', '%c3%28', '%ff', '%fe%ff', '%00', '%0a', '%0d%0a', '%u0041', '%%', '%2', '%e2%82', '%ed%a0%80', '%f4%90%80%80', '%C0%80'))
        .map(([prefix, broken]) => part(`${prefix}${broken}`, ['id:percent'], [`${prefix}${broken}`, safeDecode(`${prefix}${broken}`)])),
    },
    { weight: 1, arbitrary: fc.constant(part('', ['id:empty'])) },
  );
}

function pathArbitrary(targets: FuzzTargets, template: string): fc.Arbitrary<Part<string>> {
  const templated = idArbitrary(targets).map((id) => part(template.split('{id}').join(id.value), [...id.tags], [...id.echoes]));
  const mutation = fc.constantFrom(
    'none', 'none', 'none', 'none', 'none', 'none', 'none', 'none',
    'trailing-slash', 'double-slash', 'upper-case', 'dot-segment', 'extra-segment', 'encoded-char', 'absolute-form', 'no-leading-slash', 'asterisk', 'fragment', 'semicolon',
  );
  return fc.tuple(templated, mutation, fc.nat()).map(([path, how, n]) => {
    let value = path.value;
    switch (how) {
      case 'trailing-slash': value = `${value}/`; break;
      case 'double-slash': value = value.replace('/', '//'); break;
      case 'upper-case': value = value.toUpperCase(); break;
      case 'dot-segment': value = value.replace('/v1/', '/v1/./'); break;
      case 'extra-segment': value = `${value}/${['x', 'rotate', 'usage', '..', 'events', '%2e%2e'][n % 6]}`; break;
      case 'encoded-char': {
        // the router decodes %XX before matching: /%761/datasets is /v1/datasets to it
        const positions = [...value].map((char, i) => (/[A-Za-z0-9]/.test(char) ? i : -1)).filter((i) => i >= 0);
        if (positions.length > 0) {
          const at = positions[n % positions.length];
          value = `${value.slice(0, at)}%${value.charCodeAt(at).toString(16)}${value.slice(at + 1)}`;
        }
        break;
      }
      case 'absolute-form': value = `http://fuzz.invalid${value}`; break;
      case 'no-leading-slash': value = value.slice(1); break;
      case 'asterisk': value = '*'; break;
      case 'fragment': value = `${value}#frag`; break;
      case 'semicolon': value = value.replace('/v1/', '/v1;jsessionid=x/'); break;
    }
    return part(value, how === 'none' ? path.tags : [...path.tags, `path:${how}`], [...path.echoes, value, safeDecode(value)]);
  });
}

const EXTREME_DATES = [
  '1970-01-01T00:00:00Z', '2026-01-01', '0000-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '-000001-01-01T00:00:00.000Z', '-271821-04-20T00:00:00.000Z',
  '+275760-09-13T00:00:00.000Z', '9999-12-31T23:59:59.999Z', '10000-01-01', '2026-02-30', '2026-13-01', 'now', 'yesterday', '1e20', '-1', '8.64e15',
  '2026-01-01T25:61:61Z', '2026-01-01T00:00:00+99:99',
];

const queryValue: fc.Arbitrary<Part<string>> = fc.oneof(
  { weight: 3, arbitrary: asciiText(20).map((s) => part(percentEncode(s), [], [s])) },
  { weight: 2, arbitrary: fc.constantFrom('', '0', '1', '20', '100', '101', '-1', '1.5', '1e3', 'NaN', 'Infinity', '0x10', '9'.repeat(40), 'true', 'null', '[]', '{}').map((v) => part(v, [], [v])) },
  { weight: 2, arbitrary: fc.constantFrom(...EXTREME_DATES).map((v) => part(percentEncode(v), ['query:date'], [v])) },
  { weight: 1, arbitrary: fc.constantFrom('minute', 'hour', 'day', 'week', 'api_key.revoked', 'dataset.created', 'a.b.c', 'API_KEY.REVOKED').map((v) => part(v, [], [v])) },
  { weight: 1, arbitrary: anyText(20).map((s) => part(percentEncode(s), ['query:unicode'], [s])) },
  { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%ff', '%00', '%c3', '%ed%a0%80').map((v) => part(v, ['query:percent'], [v, safeDecode(v)])) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 12_000 }).map((n) => part('v'.repeat(n), ['query:huge-value'], ['v'.repeat(n)])) },
);

const queryKey: fc.Arbitrary<Part<string>> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('limit', 'cursor', 'type', 'since', 'granularity', 'from', 'to').map((k) => part(k, [], [k])) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom('__proto__', 'constructor', 'prototype', '__proto__[polluted]', 'constructor[prototype][polluted]', '__proto__.polluted', 'limit[]', 'limit[0]', 'cursor[a][b]', 'limit[__proto__]', 'toString', 'hasOwnProperty', 'valueOf')
      .map((k) => part(percentEncode(k, /[A-Za-z0-9_.[\]]/), ['query:prototype-or-array'], [k])),
  },
  { weight: 2, arbitrary: asciiText(15).map((k) => part(percentEncode(k), [], [k])) },
);

const queryArbitrary: fc.Arbitrary<Part<string>> = fc.oneof(
  { weight: 5, arbitrary: fc.constant(part('')) },
  {
    weight: 5,
    arbitrary: fc.array(fc.tuple(queryKey, queryValue, fc.boolean()), { minLength: 1, maxLength: 8 }).map((pairs) =>
      part(
        `?${pairs.map(([key, value, withEquals]) => (withEquals || value.value ? `${key.value}=${value.value}` : key.value)).join('&')}`,
        ['query:random', ...pairs.flatMap(([key, value]) => [...key.tags, ...value.tags])],
        pairs.flatMap(([key, value]) => [...key.echoes, ...value.echoes, key.value, value.value]),
      ),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom('limit', 'cursor', 'since', 'type', 'k'), fc.integer({ min: 2, max: 1_500 })).map(([key, n]) =>
      part(`?${Array.from({ length: n }, (_, i) => `${key}=${i}`).join('&')}`, ['query:repeated-key'], [key]),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 100, max: 2_000 }).map((n) => part(`?${Array.from({ length: n }, (_, i) => `k${i}=${i}`).join('&')}`, ['query:many-keys'], ['k'])),
  },
);

type HeaderList = Array<[string, string | Buffer]>;

function authorizationArbitrary(targets: FuzzTargets): fc.Arbitrary<Part<HeaderList>> {
  const { key } = targets;
  const auth = (value: string | Buffer, tag: string): Part<HeaderList> => part([['Authorization', value]], [`auth:${tag}`]);
  return fc.oneof(
    { weight: 30, arbitrary: fc.constant(auth(`Bearer ${key}`, 'valid')) },
    { weight: 3, arbitrary: fc.constant(part<HeaderList>([], ['auth:missing'])) },
    {
      weight: 3,
      arbitrary: fc
        .constantFrom('Basic dXNlcjpwYXNz', `Token ${key}`, `bearer ${key}`, `BEARER ${key}`, `Bearer  ${key}`, `Bearer\t${key}`, 'Bearer', 'Bearer ', `Digest ${key}`, key, `Bearer ${key} extra`, `Bearer "${key}"`, `Bearer ${key},Bearer ${key}`, '', ' ')
        .map((value) => auth(value, 'other-scheme')),
    },
    { weight: 3, arbitrary: anyText(60).map((s) => auth(Buffer.from(`Bearer ${s}`, 'utf8'), 'bearer-random')) },
    { weight: 2, arbitrary: asciiText(60).map((s) => auth(`Bearer luci_${s}`, 'luci-random')) },
    { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 40 }).map((s) => auth(`Bearer ${key}${s}`, 'valid-plus-junk')) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: key.length - 1 }).map((n) => auth(`Bearer ${key.slice(0, n)}`, 'truncated-key')) },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.integer({ min: 16_400, max: 40_000 }), fc.constantFrom('Bearer ', `Bearer ${key}`, 'Bearer luci_')).map(([n, head]) =>
        auth(`${head}${'a'.repeat(n)}`, 'huge'),
      ),
    },
    { weight: 1, arbitrary: fc.integer({ min: 8_000, max: 15_000 }).map((n) => auth(`Bearer ${'b'.repeat(n)}`, 'large')) },
    {
      weight: 2,
      arbitrary: fc.uint8Array({ minLength: 1, maxLength: 30 }).map((bytes) =>
        auth(Buffer.concat([Buffer.from(`Bearer ${key}`), Buffer.from(bytes.map((b) => b | 0x80))]), 'latin1-bytes'),
      ),
    },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 10 }).map((bytes) => auth(Buffer.concat([Buffer.from('Bearer '), Buffer.from(bytes)]), 'raw-bytes')) },
    {
      weight: 2,
      arbitrary: fc.constantFrom<Array<[string, string]>>(
        [['Authorization', `Bearer ${key}`], ['Authorization', 'Bearer junk']],
        [['Authorization', 'Bearer junk'], ['Authorization', `Bearer ${key}`]],
        [['Authorization', `Bearer ${key}`], ['Authorization', `Bearer ${key}`]],
        [['Authorization', ''], ['Authorization', `Bearer ${key}`]],
        [['authorization', `Bearer ${key}`], ['AUTHORIZATION', 'Basic x']],
      ).map((headers) => part<HeaderList>(headers, ['auth:duplicated'])),
    },
    { weight: 3, arbitrary: fc.constantFrom(...targets.otherCredentials).map((credential) => auth(`Bearer ${credential}`, 'other-credential')) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom(...targets.otherCredentials), asciiText(10)).map(([credential, junk]) => auth(`Bearer ${credential}${junk}`, 'other-credential-plus-junk')),
    },
  );
}

const headerValue: fc.Arbitrary<Part<string | Buffer>> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: fc.constantFrom(...'abcxyzABC0129 -_.,;:=/*"()?@'), maxLength: 40 }).map((v) => part<string | Buffer>(v)) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 20 }).map((bytes) => part<string | Buffer>(Buffer.from(bytes.map((b) => b | 0x80)), ['header:latin1'])) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 8 }).map((bytes) => part<string | Buffer>(Buffer.from(bytes), ['header:raw-bytes'])) },
  { weight: 1, arbitrary: fc.integer({ min: 4_000, max: 20_000 }).map((n) => part<string | Buffer>('h'.repeat(n), ['header:huge'])) },
);

const extraHeaders: fc.Arbitrary<Part<HeaderList>> = fc
  .array(
    fc.oneof(
      {
        weight: 6,
        arbitrary: fc.tuple(
          fc.constantFrom('X-Request-Id', 'X-Forwarded-For', 'X-Real-Ip', 'Forwarded', 'Accept', 'Accept-Encoding', 'Accept-Language', 'Origin', 'Referer', 'User-Agent', 'Cookie', 'Accept-Version', 'X-HTTP-Method-Override', 'Range', 'If-None-Match', 'If-Modified-Since', 'Content-Encoding', 'TE', 'Access-Control-Request-Method', 'Upgrade', 'Via', 'Max-Forwards', 'Prefer', 'Idempotency-Key', 'Content-Language'),
          headerValue,
        ),
      },
      {
        weight: 1,
        arbitrary: fc.tuple(fc.constant('Expect'), fc.constantFrom('100-continue', '100-continue', '100-continue', 'foo', '').map((v) => part<string | Buffer>(v, v === '100-continue' ? [] : ['header:expect']))),
      },
      { weight: 2, arbitrary: fc.tuple(fc.string({ unit: fc.constantFrom(...'abcdefXYZ-_0189!#$%&\'*+.^`|~'), minLength: 1, maxLength: 20 }), headerValue) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom('Bad Name', 'X:Y', 'X\u00e9', '', '(x)'), headerValue).map(([name, value]) => [name, part(value.value, ['header:bad-name'])] as const) },
    ),
    { maxLength: 4 },
  )
  .map((pairs) => part<HeaderList>(pairs.map(([name, value]) => [name, value.value]), pairs.flatMap(([, value]) => value.tags)));

/** Strings of a JSON text, for the echo list; nothing when it does not parse. */
function jsonStrings(text: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [];
  }
  const out = new Set<string>();
  const pending = [value];
  while (pending.length > 0 && out.size < 1_000) {
    const item = pending.pop();
    if (typeof item === 'string') out.add(item);
    else if (Array.isArray(item)) pending.push(...item.slice(0, 1_000));
    else if (item && typeof item === 'object') {
      for (const [k, v] of Object.entries(item)) {
        out.add(k);
        pending.push(v);
      }
    }
  }
  return [...out];
}

interface Body {
  bytes: Buffer;
  /** `undefined`: no Content-Type header. */
  contentType?: string | Buffer;
}

const fieldValue = (targets: FuzzTargets): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 4, arbitrary: anyText(40) },
    { weight: 2, arbitrary: fc.constantFrom('x', 'Q3 review', 'production', 'development', 'dataset', 'model_card', 0, 1, 60, 86_400, 1_000_000) },
    { weight: 1, arbitrary: fc.constantFrom(...targets.ids) },
    { weight: 1, arbitrary: fc.constantFrom(...EXTREME_DATES) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.constantFrom(null, true, false, -1, 1.5, 1e308, -0, [], {}, '', ' ', '\u0000', 'a\u0000b', '\ud800', '\udc00x', '\ufeff') },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 3_000 }).map((n) => 'n'.repeat(n)) },
  );

function routeShapedBody(targets: FuzzTargets): fc.Arbitrary<Part<Body>> {
  const fields = ['name', 'description', 'data', 'subject', 'environment', 'expires_at', 'rate_limit', 'grace_period_seconds'];
  return fc
    .tuple(
      fc.subarray(fields, { minLength: 1 }),
      fc.array(fieldValue(targets), { minLength: fields.length, maxLength: fields.length }),
      fc.dictionary(fc.constantFrom('name', 'status', 'source', 'k'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
      fc.constantFrom(...targets.ids),
      fc.constantFrom('dataset', 'model_card', 'other'),
      fc.boolean(),
    )
    .map(([chosen, values, data, subjectId, subjectType, wellTyped]) => {
      const body: Record<string, unknown> = {};
      chosen.forEach((field, i) => {
        body[field] = values[i];
      });
      if (wellTyped) {
        // mostly valid, so that handlers and the database are reached
        if ('name' in body) body.name = typeof values[0] === 'string' && values[0] !== '' ? values[0].slice(0, 100) : 'fuzz';
        if ('data' in body) body.data = data;
        if ('subject' in body) body.subject = { type: subjectType, id: subjectId };
        if ('rate_limit' in body) body.rate_limit = { max: 1_000, window_seconds: 60 };
        if ('grace_period_seconds' in body) body.grace_period_seconds = 0;
      }
      const text = JSON.stringify(body);
      return part<Body>({ bytes: Buffer.from(text, 'utf8'), contentType: 'application/json' }, [wellTyped ? 'body:route-shaped' : 'body:wrong-types'], jsonStrings(text));
    });
}

/** Keys a plain object inherits (`toString`, `hasOwnProperty`…): class-transformer used to skip them. */
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype);

const INVALID_UTF8 = [[0xff], [0xfe, 0xff], [0xc0, 0xaf], [0x80], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc3], [0xf8, 0x88, 0x80, 0x80, 0x80]];

function bodyArbitrary(targets: FuzzTargets): fc.Arbitrary<Part<Body | undefined>> {
  const json = (text: string, tag: string): Part<Body> => part({ bytes: Buffer.from(text, 'utf8'), contentType: 'application/json' }, [`body:${tag}`], jsonStrings(text));
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(part<Body | undefined>(undefined)) },
    { weight: 8, arbitrary: routeShapedBody(targets) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => json(JSON.stringify(value) ?? 'null', 'random-json')) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.constantFrom('top', 'data', 'nested', 'subject'), fc.boolean())
        .map(([keyName, where, withPrototype]) => {
          const poison = keyName === 'constructor' && withPrototype ? '{"prototype":{"polluted":true}}' : '{"polluted":true,"isAdmin":true}';
          const text =
            where === 'top'
              ? `{"name":"p","${keyName}":${poison}}`
              : where === 'data'
                ? `{"name":"p","data":{"${keyName}":${poison}}}`
                : where === 'subject'
                  ? `{"name":"p","data":{},"subject":{"type":"dataset","id":"ds_${'0'.repeat(28)}","${keyName}":${poison}}}`
                  : `{"name":"p","data":{"a":{"b":{"${keyName}":${poison}}}}}`;
          return json(text, 'prototype-keys');
        }),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.integer({ min: 10, max: 30_000 }), fc.constantFrom('array', 'object', 'in-data', 'in-name', 'in-subject', 'in-rate-limit')).map(([n, shape]) => {
        const objects = (inner: string) => `${'{"a":'.repeat(n)}${inner}${'}'.repeat(n)}`;
        const arrays = `${'['.repeat(n)}${']'.repeat(n)}`;
        const text =
          shape === 'array' ? arrays
            : shape === 'object' ? objects('1')
              : shape === 'in-data' ? `{"name":"d","data":${objects('1')}}`
                : shape === 'in-name' ? `{"name":${arrays}}`
                  : shape === 'in-subject' ? `{"name":"d","data":{},"subject":${objects('"x"')}}`
                    : `{"name":"d","rate_limit":${objects('1')}}`;
        return json(text, 'deep-nesting');
      }),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.integer({ min: 1_000, max: 300_000 }), fc.constantFrom('top', 'data', 'name', 'strings')).map(([n, where]) => {
        const list = where === 'strings' ? `[${'"s",'.repeat(n - 1)}"s"]` : `[${'0,'.repeat(n - 1)}0]`;
        const text = where === 'top' ? list : where === 'data' ? `{"name":"h","data":{"list":${list}}}` : where === 'name' ? `{"name":${list}}` : `{"name":"h","data":{"s":${list}}}`;
        return json(text, 'huge-array');
      }),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.integer({ min: 1_000, max: 120_000 }), fc.constantFrom('top', 'data', 'subject', 'rate-limit', 'prototype-names', 'duplicates')).map(([n, where]) => {
        const key = where === 'prototype-names' ? (i: number) => `${PROTOTYPE_NAMES[i % PROTOTYPE_NAMES.length]}${i < PROTOTYPE_NAMES.length ? '' : i}` : (i: number) => `k${i.toString(36)}`;
        const object = where === 'duplicates' ? `{${Array(n).fill('"name":"d"').join(',')}}` : `{${Array.from({ length: n }, (_, i) => `"${key(i)}":1`).join(',')}}`;
        const text = where === 'data' ? `{"name":"w","data":${object}}`
          : where === 'subject' ? `{"name":"w","data":{},"subject":${object}}`
            : where === 'rate-limit' ? `{"name":"w","rate_limit":${object}}`
              : object;
        return json(text, 'wide-object');
      }),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.integer({ min: 60_000, max: 1_040_000 }), fc.constantFrom('name', 'data-value', 'data-key', 'escapes')).map(([n, where]) => {
        const long = where === 'escapes' ? '\\u00e9'.repeat(Math.floor(n / 6)) : 'l'.repeat(n);
        const text = where === 'data-value' || where === 'escapes' ? `{"name":"l","data":{"k":"${long}"}}` : where === 'data-key' ? `{"name":"l","data":{"${long}":1}}` : `{"name":"${long}"}`;
        return json(text, 'long-string');
      }),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constantFrom(...INVALID_UTF8), fc.constantFrom('name', 'description', 'data-value', 'data-key', 'key')).map(([bad, where]) => {
        const raw = Buffer.from(bad);
        const pieces: Array<string | Buffer> =
          where === 'data-value' ? ['{"name":"u","data":{"k":"', raw, '"}}']
            : where === 'data-key' ? ['{"name":"u","data":{"', raw, '":1}}']
              : where === 'key' ? ['{"', raw, '":"u"}']
                : [`{"${where}":"a`, raw, 'b"', where === 'description' ? ',"name":"u"}' : '}'];
        return part<Body | undefined>({ bytes: Buffer.concat(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))), contentType: 'application/json' }, ['body:invalid-utf8']);
      }),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constantFrom('\\u0000', '\\ud800', '\\udc00', '\\udbff\\udbff', '\\u001f', '\\u202e', '\\uffff'), fc.constantFrom('name', 'description', 'data', 'data-key')).map(([escape, where]) => {
        const text =
          where === 'data' ? `{"name":"e","data":{"k":"v${escape}"}}`
            : where === 'data-key' ? `{"name":"e","data":{"k${escape}":1}}`
              : where === 'description' ? `{"name":"e","description":"d${escape}"}`
                : `{"name":"n${escape}"}`;
        return json(text, 'escapes');
      }),
    },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          fc.constantFrom('name=x&data=y', '<xml/>', "{'name':'x'}", '{"name":"x"}garbage', 'NaN', '{"name":"x",}', '\ufeff{"name":"x"}', '{"name":"x"', '"', '{"a":1}{"a":2}', 'undefined', '{"name":"x","name":"y"}', '1e999999', '-', '{"a":01}'),
          fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
        )
        .map((text) => part<Body | undefined>({ bytes: Buffer.from(text, 'latin1'), contentType: 'application/json' }, ['body:not-json'], [text])),
    },
    { weight: 1, arbitrary: fc.constant(part<Body | undefined>({ bytes: Buffer.alloc(0), contentType: 'application/json' }, ['body:empty-json'])) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 50_000 }).map((n) => part<Body | undefined>({ bytes: Buffer.from(`{"name":"${'o'.repeat(1024 * 1024 + n)}"}`), contentType: 'application/json' }, ['body:over-limit'])) },
  );
}

const CONTENT_TYPES: Array<string | Buffer | undefined> = [
  'application/json; charset=utf-8', 'application/json;charset=UTF-8', 'APPLICATION/JSON', 'application/json; charset=latin1', 'application/json; charset=utf-16',
  'application/json;', 'application/json ; x=y', 'application/vnd.api+json', 'application/merge-patch+json', 'application/problem+json', 'text/json',
  'text/plain', 'text/html', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=----x', 'application/octet-stream', 'application/xml', '', '*/*',
  'application/*', 'json', 'application/json, text/plain', undefined, Buffer.from([0x61, 0x70, 0x70, 0xe9, 0xff]),
];

function framedBody(targets: FuzzTargets): fc.Arbitrary<Part<HeaderList> & { bytes?: Buffer }> {
  return fc
    .tuple(
      bodyArbitrary(targets),
      fc.oneof({ weight: 8, arbitrary: fc.constant<'keep' | 'other'>('keep') }, { weight: 2, arbitrary: fc.constant<'keep' | 'other'>('other') }),
      fc.constantFrom(...CONTENT_TYPES),
      fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 4096 }) }),
      fc.boolean(),
    )
    .map(([body, typeChoice, otherType, chunkSize, duplicateType]) => {
      if (!body.value) return { ...part<HeaderList>([], body.tags, body.echoes), bytes: undefined };
      const headers: HeaderList = [];
      const tags = [...body.tags];
      const contentType = typeChoice === 'keep' ? body.value.contentType : otherType;
      if (typeChoice === 'other') tags.push('content-type:other');
      if (contentType !== undefined) headers.push(['Content-Type', contentType]);
      if (duplicateType && typeChoice === 'other' && contentType !== undefined) {
        headers.push(['Content-Type', 'application/json']);
        tags.push('content-type:duplicated');
      }
      let bytes = body.value.bytes;
      if (chunkSize > 0) {
        headers.push(['Transfer-Encoding', 'chunked']);
        bytes = chunked(bytes, chunkSize);
        tags.push('framing:chunked');
      } else {
        headers.push(['Content-Length', String(bytes.length)]);
      }
      return { ...part(headers, tags, body.echoes), bytes };
    });
}

const VERSIONS = fc.oneof(
  { weight: 30, arbitrary: fc.constant(part('HTTP/1.1')) },
  { weight: 2, arbitrary: fc.constant(part('HTTP/1.0', ['version:1.0'])) },
  { weight: 1, arbitrary: fc.constantFrom('HTTP/2.0', 'HTTP/1.2', 'HTTP/0.9', 'http/1.1', 'HTTP/11', 'HTTP/1.1 x', 'HTTP/9.9').map((v) => part(v, ['version:odd'])) },
);

/** One hostile request: method, path, query, headers and body, each drawn independently. */
export function requestArbitrary(targets: FuzzTargets): fc.Arbitrary<FuzzCase> {
  const documented = fc.constantFrom(...targets.operations).map(({ method, template }) => ({ method: part(method, ['method:documented']), template }));
  const independent = fc.tuple(METHODS, fc.constantFrom(...targets.templates)).map(([method, template]) => ({ method, template }));
  const target = fc.oneof(documented, independent).chain(({ method, template }) => pathArbitrary(targets, template).map((path) => ({ method, path })));
  return fc
    .tuple(
      target,
      queryArbitrary,
      authorizationArbitrary(targets),
      extraHeaders,
      framedBody(targets),
      VERSIONS,
      fc.oneof({ weight: 20, arbitrary: fc.constant('host') }, { weight: 1, arbitrary: fc.constantFrom('no-host', 'two-hosts', 'odd-host') }),
    )
    .map(([{ method, path }, query, authorization, extra, body, version, host]) => {
      const headers: HeaderList = [];
      if (host === 'host') headers.push(['Host', 'api.fuzz.invalid']);
      if (host === 'two-hosts') headers.push(['Host', 'a.invalid'], ['Host', 'b.invalid']);
      if (host === 'odd-host') headers.push(['Host', 'x y/\\@:99999']);
      headers.push(['X-Forwarded-For', targets.clientIp], ['Connection', 'close'], ...authorization.value, ...extra.value, ...body.value);
      const spec: RequestSpec = { method: method.value, target: `${path.value}${query.value}`, headers, body: body.bytes, version: version.value };
      const tags = [...method.tags, ...path.tags, ...query.tags, ...authorization.tags, ...extra.tags, ...body.tags, ...version.tags, ...(host === 'host' ? [] : [`host:${host}`])];
      return {
        bytes: encodeRequest(spec),
        head: method.value === 'HEAD',
        tags: tags.length > 0 ? [...new Set(tags)] : ['plain'],
        echoes: [...path.echoes, ...query.echoes, ...body.echoes, method.value],
      };
    });
}

/**
 * Byte-level damage to a well-formed request, for the parser and the clientErrorHandler: flipped,
 * inserted and deleted bytes, line endings changed, garbage. The result always ends the header block.
 */
export function mangledRequestArbitrary(base: Buffer[]): fc.Arbitrary<FuzzCase> {
  const edit = fc.oneof(
    fc.tuple(fc.constant('flip' as const), fc.nat(), fc.integer({ min: 0, max: 255 })),
    fc.tuple(fc.constant('insert' as const), fc.nat(), fc.integer({ min: 0, max: 255 })),
    fc.tuple(fc.constant('delete' as const), fc.nat(), fc.integer({ min: 1, max: 8 })),
    fc.tuple(fc.constant('bare-lf' as const), fc.nat(), fc.constant(0)),
    fc.tuple(fc.constant('nul' as const), fc.nat(), fc.constant(0)),
  );
  const mangled = fc.tuple(fc.constantFrom(...base), fc.array(edit, { minLength: 1, maxLength: 6 })).map(([request, edits]) => {
    const headEnd = request.indexOf('\r\n\r\n');
    let head = [...request.subarray(0, headEnd)];
    const tags = new Set<string>();
    for (const [kind, position, value] of edits) {
      const at = head.length === 0 ? 0 : position % head.length;
      tags.add(`mangle:${kind}`);
      if (kind === 'flip') head[at] = value;
      else if (kind === 'insert') head.splice(at, 0, value);
      else if (kind === 'delete') head.splice(at, value);
      else if (kind === 'nul') head.splice(at, 0, 0);
      else {
        const crlf = head.findIndex((byte, i) => i >= at && byte === 13 && head[i + 1] === 10);
        if (crlf >= 0) head.splice(crlf, 1);
      }
    }
    // never leave a declared body unsent: the server would rightly wait for it
    head = [...Buffer.from(head).toString('latin1').replace(/content-length|transfer-encoding/gi, 'X-Was-Framing')].map((c) => c.charCodeAt(0));
    return { bytes: Buffer.concat([Buffer.from(head), Buffer.from('\r\n\r\n')]), head: false, tags: [...tags], echoes: [Buffer.from(head).toString('latin1')] };
  });
  const garbage = fc.uint8Array({ minLength: 1, maxLength: 400 }).map((bytes) => ({
    bytes: Buffer.concat([Buffer.from(bytes), Buffer.from('\r\n\r\n')]),
    head: false,
    tags: ['garbage'],
    echoes: [Buffer.from(bytes).toString('latin1')],
  }));
  return fc.oneof({ weight: 4, arbitrary: mangled }, { weight: 1, arbitrary: garbage });
}
