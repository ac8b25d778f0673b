import fc from 'fast-check';
import { BODY_SHAPE_LIMITS, BodyShapeLimits, bodyShapeProblem } from './body-shape';

/** The 93 printable ASCII characters that need no escape in JSON. */
const PRINTABLE = Array.from({ length: 95 }, (_, code) => String.fromCharCode(32 + code)).filter((char) => char !== '"' && char !== '\\');
const printable = (index: number): string => PRINTABLE[index];

/** The shape of a parsed value, measured the obvious way: what the scan of its text must agree with. */
function measure(value: unknown): { depth: number; widest: number; keys: number; values: number; longest: number } {
  const shape = { depth: 0, widest: 0, keys: 0, values: 0, longest: 0 };
  const visit = (item: unknown, depth: number): void => {
    shape.values += 1;
    if (typeof item === 'string') shape.longest = Math.max(shape.longest, item.length);
    if (typeof item !== 'object' || item === null) return;
    shape.depth = Math.max(shape.depth, depth);
    if (!Array.isArray(item)) shape.widest = Math.max(shape.widest, Object.keys(item).length);
    if (!Array.isArray(item)) shape.keys += Object.keys(item).length;
    for (const [key, child] of Object.entries(item)) {
      if (!Array.isArray(item)) shape.longest = Math.max(shape.longest, key.length);
      visit(child, depth + 1);
    }
  };
  visit(value, 1);
  return shape;
}

function within(value: unknown, limits: BodyShapeLimits): boolean {
  const shape = measure(value);
  return (
    shape.depth <= limits.depth && shape.widest <= limits.keysPerObject && shape.keys <= limits.keys && shape.values <= limits.values && shape.longest <= limits.stringLength
  );
}

describe('bodyShapeProblem', () => {
  it('agrees with a walk of the parsed value, whatever the spacing and escapes', () => {
    const small: BodyShapeLimits = { depth: 3, keysPerObject: 3, keys: 5, values: 12, stringLength: 4 };
    const text = fc.oneof(fc.string({ maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 6 }), fc.constantFrom('"', '\\', '\n', '\u0000', '😀'));
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), text, tie('array'), tie('object')),
      array: fc.array(tie('value'), { maxLength: 5 }),
      object: fc.dictionary(text, tie('value'), { maxKeys: 5 }),
    })).value;
    fc.assert(
      fc.property(json, fc.constantFrom(undefined, 0, 2, '\t'), (value, space) => {
        const body = JSON.stringify(value, null, space);
        expect({ body, refused: bodyShapeProblem(body, small) !== undefined }).toEqual({ body, refused: !within(value, small) });
      }),
      { numRuns: 3000 },
    );
  });

  describe('accepts the largest requests of the API', () => {
    const record = (data: unknown) => JSON.stringify({ name: 'Q3 review', data });

    it('64 KiB of data holding the most values JSON allows', () => {
      const items = Array.from({ length: 32_760 }, () => 0);
      expect(Buffer.byteLength(JSON.stringify({ a: items }))).toBeLessThanOrEqual(64 * 1024);
      expect(bodyShapeProblem(record({ a: items }))).toBeUndefined();
    });

    it('64 KiB of data holding the most keys, in one object or in many', () => {
      const keys = Array.from({ length: 93 * 93 + 93 }, (_, index) => (index < 93 ? printable(index) : printable(Math.floor(index / 93) - 1) + printable(index % 93)));
      const data = Object.fromEntries(keys.slice(0, 9_375).map((key) => [key, 0]));
      expect(Buffer.byteLength(JSON.stringify(data))).toBeLessThanOrEqual(64 * 1024);
      expect(bodyShapeProblem(record(data))).toBeUndefined();
      const manyObjects = Array.from({ length: 115 }, () => Object.fromEntries(['', ...PRINTABLE].map((key) => [key, 0])));
      expect(Buffer.byteLength(JSON.stringify({ a: manyObjects }))).toBeLessThanOrEqual(64 * 1024);
      expect(bodyShapeProblem(record({ a: manyObjects }))).toBeUndefined();
    });

    it('data nested 16 levels, and a 64 KiB string written with escapes', () => {
      let deep: unknown = { leaf: true };
      for (let level = 1; level < 16; level++) deep = { [`level${level}`]: [deep] };
      expect(bodyShapeProblem(record(deep))).toBeUndefined();
      const escaped = `{"name":"x","data":{"s":"${'\\u00e9'.repeat(BODY_SHAPE_LIMITS.stringLength)}"}}`;
      expect(bodyShapeProblem(escaped)).toBeUndefined();
    });
  });

  describe('refuses, naming the field', () => {
    it.each([
      ['deep nesting', `{"data":{"a":${'['.repeat(40)}${']'.repeat(40)}}}`, `data.a.${Array(30).fill(0).join('.')}`, 'is nested more than 32 levels deep'],
      ['a wide object', `{"data":{"x":{${Array.from({ length: 10_001 }, (_, index) => `"k${index}":0`).join(',')}}}}`, 'data.x', 'is an object of more than 10,000 keys'],
      ['a long string', `{"items":[1,{"note":"${'x'.repeat(70_000)}"}]}`, 'items.1.note', 'is a string longer than 65,536 characters'],
      ['a long key', `{"data":{"${'k'.repeat(70_000)}":1}}`, 'data', 'has a key longer than 65,536 characters'],
      ['a long string of escapes', `{"s":"${'\\n'.repeat(70_000)}"}`, 's', 'is a string longer than 65,536 characters'],
    ])('%s', (_name, body, field, message) => {
      const problem = bodyShapeProblem(body);
      expect({ code: problem?.code, message: problem?.message, details: problem?.extra.details }).toEqual({
        code: 'VALIDATION_FAILED',
        message: `Request body field ${field} ${message}.`,
        details: [{ field, message: `${field} ${message}` }],
      });
    });

    it('too many keys, too many values, and a body that is itself too wide or too long', () => {
      const objects = Array.from({ length: 13 }, (_, object) => `{${Array.from({ length: 1_000 }, (_, index) => `"k${index}":${object}`).join(',')}}`);
      expect(bodyShapeProblem(`[${objects.join(',')}]`)?.message).toBe('Request body holds more than 12,000 keys in all its objects; no request of this API needs that many.');
      expect(bodyShapeProblem(`[${'0,'.repeat(40_000)}0]`)?.message).toBe(
        'Request body holds more than 40,000 values (objects, arrays, strings, numbers…); no request of this API needs that many.',
      );
      expect(bodyShapeProblem(`{${Array.from({ length: 10_001 }, (_, index) => `"${index}":0`).join(',')}}`)?.message).toBe(
        'Request body is an object of more than 10,000 keys.',
      );
      expect(bodyShapeProblem(JSON.stringify('x'.repeat(70_000)))?.message).toBe('Request body is a string longer than 65,536 characters.');
    });

    it('counts duplicate keys: the text is what is paid for', () => {
      expect(bodyShapeProblem(`{${'"a":0,'.repeat(10_000)}"a":0}`)?.message).toBe('Request body is an object of more than 10,000 keys.');
    });

    it('cuts a long key out of the field it names', () => {
      const field = bodyShapeProblem(`{"${'k'.repeat(5_000)}":{"s":"${'x'.repeat(70_000)}"}}`)?.extra.details?.[0].field;
      expect(field).toBe(`${'k'.repeat(200)}…`);
    });
  });

  it('leaves malformed text to the parser, and never throws on it', () => {
    for (const text of ['', '{', '[1,,2]', '{"a" 1}', '"unterminated', '{"a":"b\\', ']]]]', '{}}}{{', '\\"']) {
      expect(() => bodyShapeProblem(text)).not.toThrow();
    }
    expect(bodyShapeProblem('{"a":[1,2,3]')).toBeUndefined();
  });
});
