import { ApiProperty } from '@nestjs/swagger';
import { REPORT_LIMITS } from '../github-report';

/** One find in a GitHub report, for the OpenAPI document (the body is read by readReport). */
export class FoundTokenDto {
  @ApiProperty({ description: 'The token GitHub found', minLength: 1, maxLength: REPORT_LIMITS.token })
  token!: string;

  @ApiProperty({ description: 'The name of the pattern that matched', maxLength: REPORT_LIMITS.type })
  type!: string;

  @ApiProperty({ description: 'The public address it was found at', maxLength: REPORT_LIMITS.url })
  url!: string;

  @ApiProperty({ description: 'Where GitHub found it (`content`, `commit`, `issue`…)', maxLength: REPORT_LIMITS.source })
  source!: string;
}
