import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_STATUS, ErrorCode } from './app-error';

class FieldErrorDto {
  @ApiProperty({ example: 'name', description: 'The field, dotted for nested ones (`rate_limit.max`)' }) field!: string;
  @ApiProperty({ example: 'name must be a string' }) message!: string;
}

class ErrorBodyDto {
  @ApiProperty({ enum: Object.keys(ERROR_STATUS), example: 'RATE_LIMITED' }) code!: ErrorCode;
  @ApiProperty({ example: 'Rate limit exceeded. Retry after 12 seconds.', description: 'A sentence a person can act on' })
  message!: string;
  @ApiProperty({ pattern: '^req_[0-9a-f]{16,}$', example: 'req_7f3a2b1c4d5e6f708192a3b4', description: 'The same as the `X-Request-Id` header' })
  request_id!: string;
  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'VALIDATION_FAILED only: what is wrong, field by field' })
  details?: FieldErrorDto[];
  @ApiPropertyOptional({ type: 'integer', minimum: 1, example: 12, description: 'RATE_LIMITED only: whole seconds until a request is accepted (the `Retry-After` header)' })
  retry_after?: number;
  @ApiPropertyOptional({ format: 'uri', example: 'https://validate.lucitra.ai/settings/billing', description: 'ENTERPRISE_REQUIRED only: where to upgrade' })
  upgrade_url?: string;
}

/** The envelope every error is answered with (CONTRACT §4), as an OpenAPI schema. */
export class ErrorEnvelopeDto {
  @ApiProperty({ type: ErrorBodyDto }) error!: ErrorBodyDto;
}
