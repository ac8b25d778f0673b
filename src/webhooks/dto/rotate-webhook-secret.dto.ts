import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const DEFAULT_SECRET_GRACE_SECONDS = 86_400;

export class RotateWebhookSecretDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: 604_800,
    default: DEFAULT_SECRET_GRACE_SECONDS,
    description: 'Seconds during which deliveries carry signatures by both the old and the new secret; 0 stops the old one now',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(604_800)
  grace_period_seconds?: number;
}
