import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { EnterpriseRecord } from '../generated/prisma/client';

class SubjectView {
  @ApiProperty() type!: string;
  @ApiProperty() id!: string;
}

export class RecordView {
  @ApiProperty() id!: string;
  @ApiProperty({ example: 'model_card' }) object!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: Object }) data!: unknown;
  @ApiPropertyOptional({ type: SubjectView, description: 'Provenance records: what they describe' }) subject?: SubjectView;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export function presentRecord(record: EnterpriseRecord): RecordView {
  return {
    id: record.id,
    object: record.kind,
    name: record.name,
    data: record.data,
    ...(record.subjectType && record.subjectId ? { subject: { type: record.subjectType, id: record.subjectId } } : {}),
    created_at: record.createdAt.toISOString(),
  };
}
