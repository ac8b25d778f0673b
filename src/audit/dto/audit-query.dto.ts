import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsOptional, Matches } from 'class-validator';
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
  since?: Date;
}
