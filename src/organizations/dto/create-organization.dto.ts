import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { LEAK_RESPONSES, TIERS } from '../../config/app-config';
import type { LeakResponse, Tier } from '../../generated/prisma/enums';
import { IsPlainName } from '../../validation/text';

/**
 * An organization as an operator creates it (admin command line). The name follows the rules of
 * every other name a dashboard shows (API keys, datasets); the Stytch id is checked for its
 * shape, since a mistyped one would silently never match a member's session.
 */
export class CreateOrganizationDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @IsPlainName()
  name!: string;

  @IsOptional()
  @IsIn(TIERS)
  tier?: Tier;

  @IsOptional()
  @IsString()
  @MaxLength(128)
  @Matches(/^organization-(test|live)-[0-9A-Za-z-]{1,100}$/, {
    message: 'stytch_organization_id must be a Stytch organization id (organization-test-… or organization-live-…)',
  })
  stytch_organization_id?: string;
}

/** `PATCH /v1/organization` and `org set-leak-response`: the one setting an organization changes itself. */
export class UpdateOrganizationDto {
  @ApiProperty({ enum: LEAK_RESPONSES, description: '`revoke` (default) or `notify`: what a key found in public gets' })
  @IsIn(LEAK_RESPONSES)
  leak_response!: LeakResponse;
}

export class SetTierDto {
  @IsIn(TIERS)
  tier!: Tier;
}
