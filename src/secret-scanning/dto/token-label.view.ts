import { ApiProperty } from '@nestjs/swagger';

/** One entry of the answer GitHub expects: the token never echoed, only its hash. */
export class TokenLabelView {
  @ApiProperty({ description: 'SHA-256 (hex) of the reported token', pattern: '^[0-9a-f]{64}$' })
  token_hash!: string;

  @ApiProperty({ description: 'The `type` GitHub reported the token with', example: 'lucitra_api_key' })
  token_type!: string;

  @ApiProperty({ enum: ['true_positive', 'false_positive'], description: '`true_positive`: a key this service issued (live or not)' })
  label!: 'true_positive' | 'false_positive';
}
