import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_STATUS, ErrorCode } from './app-error';

class FieldErrorDto {
  @ApiProperty({ example: 'name' }) field!: string;
  @ApiProperty({ example: 'name must be a string' }) message!: string;
}

class ErrorBodyDto {
  @ApiProperty({ enum: Object.keys(ERROR_STATUS), example: 'RATE_LIMITED' }) code!: ErrorCode;
  @ApiProperty({ example: 'Rate limit exceeded. Retry after 12 seconds.' }) message!: string;
  @ApiProperty({ example: 'req_7f3a2b1c4d5e6f708192a3b4' }) request_id!: string;
  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'VALIDATION_FAILED only' }) details?: FieldErrorDto[];
  @ApiPropertyOptional({ example: 12, description: 'RATE_LIMITED only: seconds until a request is accepted' })
  retry_after?: number;
  @ApiPropertyOptional({ example: 'https://validate.lucitra.ai/settings/billing', description: 'ENTERPRISE_REQUIRED only' })
  upgrade_url?: string;
}

/** The envelope every error is answered with (CONTRACT §4), as an OpenAPI schema. */
export class ErrorEnvelopeDto {
  @ApiProperty({ type: ErrorBodyDto }) error!: ErrorBodyDto;
}
