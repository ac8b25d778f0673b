import { ApiProperty, ApiPropertyOptional, ApiPropertyOptions } from '@nestjs/swagger';

export interface UsageFlagFigures {
  observed: number;
  baseline: number;
  raised_at: string;
}

// Inline, not a $ref: OpenAPI 3.0 cannot make a referenced schema nullable.
const flagSchema = (what: string, observed: string): ApiPropertyOptions => ({
  type: 'object',
  nullable: true,
  description: `${what}; null: not raised`,
  required: ['observed', 'baseline', 'raised_at'],
  properties: {
    observed: { type: 'integer', minimum: 0, description: `${observed} in the hour when the flag was raised` },
    baseline: { type: 'number', minimum: 0, description: "The key's usual hour it was compared with (mean of its busy hours over the previous 7 days)" },
    raised_at: { type: 'string', format: 'date-time' },
  },
});

export class UsageBucketView {
  @ApiProperty({ format: 'date-time', description: 'Start of the bucket' }) timestamp!: string;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Requests admitted' }) requests!: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Requests refused with 429' }) rate_limited!: number;
  @ApiPropertyOptional({ type: 'integer', minimum: 0, description: 'Hour buckets only: distinct client IPs the key was used from in the hour (estimated within about 1%)' })
  distinct_ips?: number;
  @ApiPropertyOptional(flagSchema('Hour buckets only: the requests (admitted + 429) of the hour spiked far over the key\'s usual', 'Requests'))
  usage_spike?: UsageFlagFigures | null;
  @ApiPropertyOptional(flagSchema('Hour buckets only: the key was used from far more client IPs than usual', 'Distinct client IPs'))
  many_ips?: UsageFlagFigures | null;
}

export class UsageFlagView {
  @ApiProperty({ format: 'date-time', description: 'Start of the flagged hour' }) hour!: string;
  @ApiProperty({ enum: ['usage_spike', 'many_ips'] }) kind!: 'usage_spike' | 'many_ips';
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Requests (usage_spike) or distinct client IPs (many_ips) in the hour when raised' }) observed!: number;
  @ApiProperty({ type: 'number', minimum: 0, description: "The key's usual hour it was compared with" }) baseline!: number;
  @ApiProperty({ format: 'date-time' }) raised_at!: string;
}

/** `GET /v1/api-keys/{id}/usage`: buckets oldest first, and the flags raised for hours in the range. */
export class UsageView {
  @ApiProperty({ type: [UsageBucketView] }) data!: UsageBucketView[];
  @ApiProperty({ type: [UsageFlagView], description: 'Hours in the range whose traffic looked like a stolen key\'s, oldest first (any granularity)' })
  flags!: UsageFlagView[];
}
