import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsOptional } from 'class-validator';

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
  from?: Date;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Default: now' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'to must be an ISO-8601 date-time' })
  to?: Date;
}
