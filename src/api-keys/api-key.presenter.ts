import { ApiProperty } from '@nestjs/swagger';
import type { ApiKey } from '../generated/prisma/client';
import { ENVIRONMENTS } from './dto/create-api-key.dto';

class ActorDto {
  @ApiProperty({ enum: ['api_key', 'member', 'system'] }) type!: string;
  @ApiProperty() id!: string;
}

interface RateLimitView {
  max: number;
  window_seconds: number;
}

/** The key object of CONTRACT §7 (never the secret, never its hash). */
export class ApiKeyView {
  @ApiProperty({ example: 'key_0193a1b2c3d4e5f60718293a4b5c' }) id!: string;
  @ApiProperty({ enum: ['api_key'] }) object!: 'api_key';
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ENVIRONMENTS }) environment!: string;
  @ApiProperty({ example: 'luci_Ab3x', description: 'First 9 characters of the secret' }) start!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) last_used_at!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) expires_at!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'When the key stopped (or, during a rotation grace period, will stop) working' })
  revoked_at!: string | null;
  @ApiProperty({ type: ActorDto }) created_by!: ActorDto;
  // Inline, not a $ref: OpenAPI 3.0 cannot make a referenced schema nullable.
  @ApiProperty({
    type: 'object',
    nullable: true,
    description: "The key's own limit; null: the service's default",
    required: ['max', 'window_seconds'],
    properties: {
      max: { type: 'integer', minimum: 1, description: 'Requests per window' },
      window_seconds: { type: 'integer', minimum: 1, description: 'Window length in seconds' },
    },
  })
  rate_limit!: RateLimitView | null;
}

export class CreatedApiKeyView extends ApiKeyView {
  @ApiProperty({ description: 'The secret. Shown this once; store it now.' }) key!: string;
}

export function presentApiKey(key: ApiKey): ApiKeyView {
  return {
    id: key.id,
    object: 'api_key',
    name: key.name,
    environment: key.environment,
    start: key.start,
    created_at: key.createdAt.toISOString(),
    last_used_at: key.lastUsedAt?.toISOString() ?? null,
    expires_at: key.expiresAt?.toISOString() ?? null,
    revoked_at: key.revokedAt?.toISOString() ?? null,
    created_by: { type: key.createdByType, id: key.createdById },
    rate_limit:
      key.rateLimitMax !== null && key.rateLimitWindowSeconds !== null
        ? { max: key.rateLimitMax, window_seconds: key.rateLimitWindowSeconds }
        : null,
  };
}
