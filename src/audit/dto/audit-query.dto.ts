import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { IsBoundedDate } from '../../validation/date-bounds';
import { ListQueryDto } from '../../pagination/list-query.dto';

export class AuditQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ example: 'api_key.revoked' })
  @IsOptional()
  @Matches(/^[a-z_]+\.[a-z_]+$/, { message: 'type must look like api_key.revoked' })
  type?: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Only events at or after this time' })
  @IsOptional()
  @IsBoundedDate()
  since?: Date;
}
