import { ApiProperty } from '@nestjs/swagger';

export class HealthView {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
}

class ReadinessChecksView {
  @ApiProperty({ enum: ['ok'], description: 'PostgreSQL' }) database!: 'ok';
  @ApiProperty({ enum: ['ok'], description: 'The rate-limit store (Redis, or in-process)' }) store!: 'ok';
}

export class ReadinessView {
  @ApiProperty({ enum: ['ready'] }) status!: 'ready';
  @ApiProperty({ type: ReadinessChecksView }) checks!: ReadinessChecksView;
}
