import { ApiProperty } from '@nestjs/swagger';

export class UsageBucketView {
  @ApiProperty({ format: 'date-time', description: 'Start of the bucket' }) timestamp!: string;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Requests admitted' }) requests!: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Requests refused with 429' }) rate_limited!: number;
}

/** `GET /v1/api-keys/{id}/usage`: buckets oldest first. */
export class UsageView {
  @ApiProperty({ type: [UsageBucketView] }) data!: UsageBucketView[];
}
