import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength, ValidateBy, ValidationOptions } from 'class-validator';
import { IsPlainName } from '../../validation/text';

const MAX_DATA_BYTES = 64 * 1024;
const MAX_DATA_DEPTH = 16;

/**
 * A JSON object (not an array or scalar) of bounded size and nesting, whose strings PostgreSQL's
 * jsonb can store: no NUL, no lone surrogate.
 */
export function IsBoundedJsonObject(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isBoundedJsonObject',
      validator: {
        // the size first: it bounds the walks that follow
        validate: (value: unknown) =>
          isPlainObject(value) &&
          Buffer.byteLength(JSON.stringify(value)) <= MAX_DATA_BYTES &&
          depth(value) <= MAX_DATA_DEPTH &&
          storableStrings(value),
        defaultMessage: (args) =>
          `${args?.property ?? 'data'} must be a JSON object of at most ${MAX_DATA_BYTES / 1024} KiB and ${MAX_DATA_DEPTH} levels, without NUL characters or lone surrogates`,
      },
    },
    options,
  );
}

export class CreateRecordDto {
  @ApiProperty({ example: 'Q3 safety review', maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @IsPlainName()
  name!: string;

  @ApiProperty({ type: Object, example: { framework: 'EU AI Act', status: 'draft' }, description: 'Free-form JSON object, ≤ 64 KiB' })
  @IsBoundedJsonObject()
  data!: Record<string, unknown>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function depth(value: unknown, level = 1): number {
  if (typeof value !== 'object' || value === null) return level - 1;
  if (level > MAX_DATA_DEPTH) return level;
  let deepest = level;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depth(child, level + 1));
  return deepest;
}

/** Every key and string value is well-formed Unicode without NUL (jsonb refuses both). */
function storableStrings(value: unknown): boolean {
  const storable = (text: string) => text.isWellFormed() && !text.includes('\u0000');
  if (typeof value === 'string') return storable(value);
  if (typeof value !== 'object' || value === null) return true;
  return Object.entries(value).every(([key, child]) => storable(key) && storableStrings(child));
}
