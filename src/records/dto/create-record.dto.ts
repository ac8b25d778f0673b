import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength, ValidateBy, ValidationOptions } from 'class-validator';

const MAX_DATA_BYTES = 64 * 1024;
const MAX_DATA_DEPTH = 16;

/** A JSON object (not an array or scalar) of bounded size and nesting. */
export function IsBoundedJsonObject(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isBoundedJsonObject',
      validator: {
        validate: (value: unknown) =>
          isPlainObject(value) && depth(value) <= MAX_DATA_DEPTH && Buffer.byteLength(JSON.stringify(value)) <= MAX_DATA_BYTES,
        defaultMessage: (args) =>
          `${args?.property ?? "data"} must be a JSON object of at most ${MAX_DATA_BYTES / 1024} KiB and ${MAX_DATA_DEPTH} levels`,
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
