import { ApiProperty } from '@nestjs/swagger';
import type { LeakResponse, Tier } from '../generated/prisma/enums';
import { LEAK_RESPONSES, TIERS } from '../config/app-config';
import type { OrganizationRecord } from '../auth/principal';

export class OrganizationView {
  @ApiProperty({ example: 'org_0193a1b2c3d4e5f60718293a4b5c' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: TIERS }) tier!: Tier;
  @ApiProperty({
    enum: LEAK_RESPONSES,
    description: 'What happens to a key of yours found in public by GitHub secret scanning: `revoke` it at once (the default), ' +
      'or `notify` only (an `api_key.leaked` audit event either way)',
  })
  leak_response!: LeakResponse;
  @ApiProperty({ nullable: true, type: String }) stytch_organization_id!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export function presentOrganization(organization: OrganizationRecord, tier: Tier): OrganizationView {
  return {
    id: organization.id,
    name: organization.name,
    tier,
    leak_response: organization.leakResponse,
    stytch_organization_id: organization.stytchOrganizationId,
    created_at: organization.createdAt.toISOString(),
  };
}
