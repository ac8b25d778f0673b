import { ApiProperty } from '@nestjs/swagger';
import type { AuditEvent } from '../generated/prisma/client';

class Reference {
  @ApiProperty() type!: string;
  @ApiProperty() id!: string;
}

export class AuditEventView {
  @ApiProperty({ example: 'evt_0193a1b2c3d4e5f60718293a4b5c' }) id!: string;
  @ApiProperty({ example: 'api_key.revoked' }) type!: string;
  @ApiProperty({ type: Reference, description: 'type: api_key, member or system' }) actor!: Reference;
  @ApiProperty({ type: Reference }) target!: Reference;
  @ApiProperty({ nullable: true, type: String }) request_id!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ type: Object }) data!: unknown;
}

export function presentAuditEvent(event: AuditEvent): AuditEventView {
  return {
    id: event.id,
    type: event.type,
    actor: { type: event.actorType, id: event.actorId },
    target: { type: event.targetType, id: event.targetId },
    request_id: event.requestId,
    created_at: event.createdAt.toISOString(),
    data: event.data,
  };
}
