import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export class RotateApiKeyDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: 86_400, default: 0, description: 'Seconds the old key keeps working' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(86_400)
  grace_period_seconds?: number;
}
