import { ApiProperty } from '@nestjs/swagger';
import type { MemberPrincipal } from '../auth/principal';

/** `GET /v1/session` (CONTRACT §7). */
export class SessionView {
  @ApiProperty({ example: 'member-test-32fc5024-9c09-4da3-bd2e-c9ce4da9375f' }) member_id!: string;
  /**
   * Our organization id (`org_…`), not Stytch's: it is the id every other endpoint of this API
   * speaks (`GET /v1/organization`, audit actors, keys). Stytch's id is beside it.
   */
  @ApiProperty({ example: 'org_0193a1b2c3d4e5f60718293a4b5c', description: 'This API\'s organization id' })
  organization_id!: string;
  @ApiProperty({ example: 'organization-test-07971b06-ac8b-4cdb-9c15-63b17e653931' }) stytch_organization_id!: string;
  @ApiProperty({ example: 'acme' }) organization_slug!: string;
  @ApiProperty({ type: [String], example: ['stytch_member', 'stytch_admin'] }) roles!: string[];
  @ApiProperty({ format: 'date-time', description: 'When the Stytch session ends' }) expires_at!: string;
}

export function presentSession(principal: MemberPrincipal): SessionView {
  return {
    member_id: principal.memberId,
    organization_id: principal.organization.id,
    // Always set for an organization reached through a session (it was found or created by it).
    stytch_organization_id: principal.organization.stytchOrganizationId ?? '',
    organization_slug: principal.organizationSlug,
    roles: principal.roles,
    expires_at: principal.session.expiresAt,
  };
}
