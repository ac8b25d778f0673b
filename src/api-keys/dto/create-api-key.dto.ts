import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsDate, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Max, MaxDate, MaxLength, Min, MinDate, ValidateNested,
} from 'class-validator';
import { LATEST_DATE, ToIsoDate } from '../../validation/date-bounds';
import { IsPlainName } from '../../validation/text';

export const ENVIRONMENTS = ['development', 'staging', 'production'] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

export class RateLimitDto {
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 1_000_000, example: 1000 })
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  max!: number;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: 86_400, example: 60 })
  @IsInt()
  @Min(1)
  @Max(86_400)
  window_seconds!: number;
}

export class CreateApiKeyDto {
  @ApiProperty({ example: 'CI pipeline', maxLength: 100 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  @IsPlainName()
  name!: string;

  @ApiPropertyOptional({ enum: ENVIRONMENTS, default: 'production' })
  @IsOptional()
  @IsIn(ENVIRONMENTS)
  environment?: EnvironmentName;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Must be in the future' })
  @IsOptional()
  @ToIsoDate()
  @IsDate({ message: 'expires_at must be an ISO-8601 date-time string, such as 2027-01-31T00:00:00Z (numbers are not accepted)' })
  @MinDate(() => new Date(), { message: 'expires_at must be in the future' })
  @MaxDate(LATEST_DATE, { message: 'expires_at must be before the year 10000' })
  expires_at?: Date;

  @ApiPropertyOptional({ type: RateLimitDto, description: 'Overrides the default rate limit for this key' })
  @IsOptional()
  @ValidateNested()
  @Type(() => RateLimitDto)
  rate_limit?: RateLimitDto;
}
