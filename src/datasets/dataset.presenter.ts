import { ApiProperty } from '@nestjs/swagger';
import type { Dataset } from '../generated/prisma/client';

export class DatasetView {
  @ApiProperty({ example: 'ds_0193a1b2c3d4e5f60718293a4b5c' }) id!: string;
  @ApiProperty({ enum: ['dataset'] }) object!: 'dataset';
  @ApiProperty() name!: string;
  @ApiProperty({ nullable: true, type: String }) description!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export function presentDataset(dataset: Dataset): DatasetView {
  return {
    id: dataset.id,
    object: 'dataset',
    name: dataset.name,
    description: dataset.description,
    created_at: dataset.createdAt.toISOString(),
  };
}
