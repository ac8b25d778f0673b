import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsOptional, MaxDate, MinDate } from 'class-validator';
import { EARLIEST_DATE, LATEST_DATE } from '../../validation/date-bounds';

export const GRANULARITIES = ['minute', 'hour', 'day'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

export class UsageQueryDto {
  @ApiPropertyOptional({ enum: GRANULARITIES, default: 'hour' })
  @IsOptional()
  @IsIn(GRANULARITIES)
  granularity?: Granularity;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Default: 24 hours before `to` (30 days for `day`)' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'from must be an ISO-8601 date-time' })
  @MinDate(EARLIEST_DATE, { message: 'from must be between 1970-01-01 and 9999-12-31' })
  @MaxDate(LATEST_DATE, { message: 'from must be between 1970-01-01 and 9999-12-31' })
  from?: Date;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Default: now' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'to must be an ISO-8601 date-time' })
  @MinDate(EARLIEST_DATE, { message: 'to must be between 1970-01-01 and 9999-12-31' })
  @MaxDate(LATEST_DATE, { message: 'to must be between 1970-01-01 and 9999-12-31' })
  to?: Date;
}
