import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsOptional, Matches, MaxDate, MinDate } from 'class-validator';
import { EARLIEST_DATE, LATEST_DATE } from '../../validation/date-bounds';
import { ListQueryDto } from '../../pagination/list-query.dto';

export class AuditQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ example: 'api_key.revoked' })
  @IsOptional()
  @Matches(/^[a-z_]+\.[a-z_]+$/, { message: 'type must look like api_key.revoked' })
  type?: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Only events at or after this time' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'since must be an ISO-8601 date-time' })
  @MinDate(EARLIEST_DATE, { message: 'since must be between 1970-01-01 and 9999-12-31' })
  @MaxDate(LATEST_DATE, { message: 'since must be between 1970-01-01 and 9999-12-31' })
  since?: Date;
}
