import { ClassConstructor, ClassTransformOptions, instanceToPlain, plainToInstance } from 'class-transformer';
import type { MetadataStorage } from 'class-transformer/types/MetadataStorage';
import { getMetadataStorage } from 'class-validator';

// class-transformer keeps its @Type() metadata out of its public API; @nestjs/mapped-types reads it the same way.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { defaultMetadataStorage: transformMetadata } = require('class-transformer/cjs/storage') as { defaultMetadataStorage: MetadataStorage };

type Class = ClassConstructor<object>;

/** A key on the way down from the root; a path is only spelled out (fieldName) to report it. */
export interface FieldPath {
  parent: FieldPath | undefined;
  key: string | number;
}

/** What a DTO declares about one of its fields. */
interface Field {
  /** The DTO class a nested object is built with, if any (resolved lazily: DTOs may refer to each other). */
  nested?: () => Class | undefined;
  /** Declared as an array (of nested DTOs, if `nested`). */
  many: boolean;
}

/** A key that cannot be taken as sent, and why (`is not a known field`). */
export type FieldProblem = [FieldPath, string];

interface Shaping {
  problems: FieldProblem[];
  /** Structured values of declared fields, handed to validation as parsed. */
  asParsed: Array<[FieldPath, unknown]>;
}

const problemsByInstance = new WeakMap<object, readonly FieldProblem[]>();

/**
 * class-transformer, given only the fields a DTO declares (those class-validator knows: what its
 * whitelist would keep). Three things class-transformer does to what it is handed never happen:
 * - it skips keys named like members of Object.prototype (`toString`, `hasOwnProperty`,
 *   `constructor`…), so an unknown field so named passed the whitelist and free-form JSON lost it;
 * - its key de-duplication is quadratic in an object's width (115,000 keys: 17 s);
 * - it copies free-form JSON, lossily. Here a structured value (object or array) of a field that
 *   is not a nested DTO reaches validation exactly as parsed; scalars are still converted.
 * Undeclared keys are recorded with the instance (problemsOf) and refused with the other errors.
 */
export const dtoTransformer = {
  plainToInstance<T>(cls: ClassConstructor<T>, plain: unknown, options?: ClassTransformOptions): T | T[] {
    const shaping: Shaping = { problems: [], asParsed: [] };
    const shaped = Array.isArray(plain) ? plain.map((item, index) => shape(cls as Class, item, { parent: undefined, key: index }, shaping)) : shape(cls as Class, plain, undefined, shaping);
    const instance = plainToInstance(cls, shaped, options) as T | T[];
    for (const [path, value] of shaping.asParsed) place(instance, path, value);
    if (shaping.problems.length > 0 && typeof instance === 'object' && instance !== null) problemsByInstance.set(instance, shaping.problems);
    return instance;
  },
  classToPlain: instanceToPlain,
};

/** What was wrong with the keys of the value `instance` was built from, if anything. */
export function problemsOf(instance: object): readonly FieldProblem[] | undefined {
  return problemsByInstance.get(instance);
}

/** An object with only the fields `cls` declares, nested DTOs shaped alike; everything else noted in `shaping`. */
function shape(cls: Class, value: unknown, path: FieldPath | undefined, shaping: Shaping): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const fields = declaredFields(cls);
  const shaped: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const field = fields.get(key);
    const child = (value as Record<string, unknown>)[key];
    const at: FieldPath = { parent: path, key };
    const nested = field?.nested?.();
    if (!field) {
      shaping.problems.push([at, 'is not a known field']);
    } else if (typeof child !== 'object' || child === null) {
      shaped[key] = child;
    } else if (!nested) {
      shaping.asParsed.push([at, child]);
    } else if (!Array.isArray(child)) {
      shaped[key] = shape(nested, child, at, shaping);
    } else if (field.many) {
      shaped[key] = child.map((item: unknown, index) => shape(nested, item, { parent: at, key: index }, shaping));
    } else {
      // class-validator would validate every item as the one object declared: refused here, once
      shaping.problems.push([at, 'must be a JSON object']);
    }
  }
  return shaped;
}

/** Puts `value` where `path` leads in the instance class-transformer built from the shaped value. */
function place(instance: unknown, path: FieldPath, value: unknown): void {
  const keys = keysOf(path);
  let holder = instance as Record<string | number, unknown>;
  for (const key of keys.slice(0, -1)) holder = holder[key] as Record<string | number, unknown>;
  holder[keys[keys.length - 1]] = value;
}

/** `subject.type`, `0.name`: as validation details name fields. */
export function fieldName(path: FieldPath): string {
  return keysOf(path).join('.');
}

function keysOf(path: FieldPath): Array<string | number> {
  const keys: Array<string | number> = [];
  for (let at: FieldPath | undefined = path; at; at = at.parent) keys.unshift(at.key);
  return keys;
}

const fieldsByClass = new Map<Class, Map<string, Field>>();

/** The fields class-validator knows for `cls` (inherited ones included), read once per class. */
function declaredFields(cls: Class): Map<string, Field> {
  let fields = fieldsByClass.get(cls);
  if (fields) return fields;
  fields = new Map();
  for (const { propertyName } of getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false)) {
    if (fields.has(propertyName)) continue;
    const typeFunction = transformMetadata.findTypeMetadata(cls, propertyName)?.typeFunction;
    // @Type(() => Date) converts a scalar; only a class with fields of its own is a nested DTO.
    const nested = typeFunction ? () => asDto(typeFunction()) : undefined;
    fields.set(propertyName, { nested, many: Reflect.getMetadata('design:type', cls.prototype, propertyName) === Array });
  }
  fieldsByClass.set(cls, fields);
  return fields;
}

function asDto(type: unknown): Class | undefined {
  return typeof type === 'function' && declaredFields(type as Class).size > 0 ? (type as Class) : undefined;
}
