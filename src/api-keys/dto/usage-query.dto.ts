import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { IsBoundedDate } from '../../validation/date-bounds';

export const GRANULARITIES = ['minute', 'hour', 'day'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

export class UsageQueryDto {
  @ApiPropertyOptional({ enum: GRANULARITIES, default: 'hour' })
  @IsOptional()
  @IsIn(GRANULARITIES)
  granularity?: Granularity;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Default: 24 hours before `to` (30 days for `day`)' })
  @IsOptional()
  @IsBoundedDate()
  from?: Date;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Default: now' })
  @IsOptional()
  @IsBoundedDate()
  to?: Date;
}
