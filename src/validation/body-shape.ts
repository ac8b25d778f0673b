import { AppError } from '../errors/app-error';
import { shownField } from '../errors/validation';

export interface BodyShapeLimits {
  depth: number;
  keysPerObject: number;
  keys: number;
  values: number;
  stringLength: number;
}

/**
 * The most any request of this API needs. The largest part of any body is an Enterprise record's
 * free-form `data`: at most 64 KiB of JSON and 16 levels (CreateRecordDto); every other field is
 * a short string, a number or a small object of known fields.
 */
export const BODY_SHAPE_LIMITS: Readonly<BodyShapeLimits> = {
  /** `data`'s 16 levels under the body's own one, with room to spare. */
  depth: 32,
  /** 64 KiB of JSON holds at most 9,375 distinct keys in one object (`{"a":0,…,"zz":0}`)… */
  keysPerObject: 10_000,
  /** …and ~10,900 in all its objects together (`[{"":0,"a":0,…,"~":0},…]`). Parsing costs most per key. */
  keys: 12_000,
  /** Values of every kind, containers included: 64 KiB of JSON holds at most 32,768 (`[0,0,…]`). */
  values: 40_000,
  /** No string of a request, key or value, can be longer than `data` itself. */
  stringLength: 64 * 1024,
};

const [QUOTE, BACKSLASH, COMMA, COLON, OPEN_ARRAY, CLOSE_ARRAY, OPEN_OBJECT, CLOSE_OBJECT] = [34, 92, 44, 58, 91, 93, 123, 125];
/** Digits, signs, letters…: anything but a structural character, a quote or JSON's white space. */
const NOT_LITERAL = new Uint8Array(128);
for (const char of [COMMA, COLON, QUOTE, OPEN_ARRAY, CLOSE_ARRAY, OPEN_OBJECT, CLOSE_OBJECT]) NOT_LITERAL[char] = 1;
NOT_LITERAL.fill(1, 0, 33);
const isLiteral = (char: number): boolean => char >= 128 || NOT_LITERAL[char] === 0;
/** After the start, `{`, `[`, `,` or `:`, a new token starts. */
const isBeforeToken = (char: number): boolean => char === 0 || char === OPEN_OBJECT || char === OPEN_ARRAY || char === COMMA || char === COLON;

/**
 * Refuses a JSON body no request of this API can need, in one linear pass over its text, before
 * it is parsed: parsing a 1 MiB object of 115,000 keys alone costs ~100 ms, and validation works
 * per key and per node (class-transformer's key de-duplication even grows with the square of an
 * object's width: that body blocked the process for 17 s). Malformed text is left to the parser.
 */
export function bodyShapeProblem(text: string, limits: Readonly<BodyShapeLimits> = BODY_SHAPE_LIMITS): AppError | undefined {
  return new ShapeScan(text, limits).run();
}

/** The containers open at the current point, innermost last; what is needed to name a field. */
class ShapeScan {
  private depth = 0;
  private keys = 0;
  private values = 0;
  private readonly isObject: Uint8Array;
  private readonly members: Int32Array;
  /** Where the current member's key starts and ends in the text (objects only). */
  private readonly keyStart: Int32Array;
  private readonly keyEnd: Int32Array;
  private escapeOverhead = 0;
  private nextBackslash = -1;

  constructor(
    private readonly text: string,
    private readonly limits: Readonly<BodyShapeLimits>,
  ) {
    this.isObject = new Uint8Array(limits.depth);
    this.members = new Int32Array(limits.depth);
    this.keyStart = new Int32Array(limits.depth);
    this.keyEnd = new Int32Array(limits.depth);
  }

  run(): AppError | undefined {
    const { text } = this;
    let previous = 0;
    for (let index = 0; index < text.length; index++) {
      const char = text.charCodeAt(index);
      if (char === 32 || char === 10 || char === 13 || char === 9) continue;
      const startsToken = isBeforeToken(previous) && char !== COMMA && char !== COLON && char !== CLOSE_ARRAY && char !== CLOSE_OBJECT;
      const isKey = startsToken && previous !== COLON && this.inObject();
      const problem = startsToken ? (isKey ? this.keyStarts() : this.valueStarts(previous === COLON)) : undefined;
      if (problem) return problem;
      if (char === QUOTE) {
        const end = this.stringEnd(index);
        if (isKey) {
          this.keyStart[this.depth - 1] = index;
          this.keyEnd[this.depth - 1] = end + 1;
        }
        if (end - index - 1 - this.escapeOverhead > this.limits.stringLength) return this.tooLong(isKey ? 'key' : 'string');
        index = end;
      } else if (char === OPEN_ARRAY || char === OPEN_OBJECT) {
        if (this.depth === this.limits.depth) return refusal(this.path(this.depth), `is nested more than ${this.limits.depth} levels deep`);
        this.isObject[this.depth] = char === OPEN_OBJECT ? 1 : 0;
        this.members[this.depth] = 0;
        this.keyStart[this.depth] = this.keyEnd[this.depth] = 0;
        this.depth += 1;
      } else if ((char === CLOSE_ARRAY || char === CLOSE_OBJECT) && this.depth > 0) {
        this.depth -= 1;
      } else if (startsToken) {
        // a number, true, false or null: read on to its end here
        while (index + 1 < text.length && isLiteral(text.charCodeAt(index + 1))) index += 1;
      }
      previous = char;
    }
    return undefined;
  }

  private keyStarts(): AppError | undefined {
    const level = this.depth - 1;
    this.members[level] += 1;
    if (this.members[level] > this.limits.keysPerObject) return refusal(this.path(level), `is an object of more than ${figure(this.limits.keysPerObject)} keys`);
    this.keys += 1;
    if (this.keys <= this.limits.keys) return undefined;
    return AppError.validation(`Request body holds more than ${figure(this.limits.keys)} keys in all its objects; no request of this API needs that many.`);
  }

  /** A value starts: an array's next item, an object member's value (after its colon) or the body itself. */
  private valueStarts(afterColon: boolean): AppError | undefined {
    if (this.depth > 0 && !afterColon) this.members[this.depth - 1] += 1;
    this.values += 1;
    if (this.values <= this.limits.values) return undefined;
    return AppError.validation(`Request body holds more than ${figure(this.limits.values)} values (objects, arrays, strings, numbers…); no request of this API needs that many.`);
  }

  /**
   * The index of the quote that closes the string opened at `start` (the text's length if none
   * does); `escapeOverhead` is then how much longer its escapes are than the characters they stand
   * for. A string without escapes is skipped with indexOf (the next backslash of the text is looked
   * up once, not per string); one with escapes is read character by character.
   */
  private stringEnd(start: number): number {
    const { text } = this;
    this.escapeOverhead = 0;
    const quote = text.indexOf('"', start + 1);
    if (quote === -1) return text.length;
    if (this.nextBackslash < start) this.nextBackslash = text.indexOf('\\', start) >>> 0; // none: 2³² − 1
    if (this.nextBackslash > quote) return quote;
    for (let index = this.nextBackslash; index < text.length; index++) {
      const char = text.charCodeAt(index);
      if (char === QUOTE) return index;
      if (index - start - 1 - this.escapeOverhead > this.limits.stringLength) return index; // too long already: read no further
      if (char === BACKSLASH) {
        const skipped = text.charCodeAt(index + 1) === 117 ? 5 : 1; // \uXXXX, or \n, \" …
        this.escapeOverhead += skipped;
        index += skipped;
      }
    }
    return text.length;
  }

  private inObject(): boolean {
    return this.depth > 0 && this.isObject[this.depth - 1] === 1;
  }

  private tooLong(what: 'key' | 'string'): AppError {
    const message = `${what === 'key' ? 'has a key' : 'is a string'} longer than ${figure(this.limits.stringLength)} characters`;
    return refusal(this.path(what === 'key' ? this.depth - 1 : this.depth), message);
  }

  /** `data.items.3`: the current member of each of the `levels` outermost containers. */
  private path(levels: number): string {
    const keys: string[] = [];
    for (let level = 0; level < levels; level++) {
      if (this.isObject[level] === 0) keys.push(String(this.members[level] - 1));
      else keys.push(keyText(this.text.slice(this.keyStart[level], this.keyEnd[level])));
    }
    return shownField(keys.join('.'));
  }
}

/** Names the field when the problem is below the body itself. */
function refusal(field: string, message: string): AppError {
  return field
    ? AppError.validation(`Request body field ${field} ${message}.`, [{ field, message: `${field} ${message}` }])
    : AppError.validation(`Request body ${message}.`);
}

function keyText(quoted: string): string {
  try {
    return String(JSON.parse(quoted));
  } catch {
    return quoted;
  }
}

function figure(count: number): string {
  return count.toLocaleString('en-US');
}
