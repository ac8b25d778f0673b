import type { INestApplicationContext } from '@nestjs/common';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { LEAK_RESPONSES, TIERS } from '../config/app-config';
import { idPattern } from '../database/ids';
import { AppError } from '../errors/app-error';
import type { Organization } from '../generated/prisma/client';
import { CreateOrganizationDto, SetTierDto, UpdateOrganizationDto } from '../organizations/dto/create-organization.dto';
import { presentOrganization } from '../organizations/organization.presenter';
import { OrganizationsService } from '../organizations/organizations.service';
import { type CommandSpec, SYSTEM, required, ruleOf, validated } from './command-spec';

const ORG_ID = idPattern('org');
const TIER_HELP = TIERS.join(', ');

export const ORG_COMMANDS: CommandSpec[] = [
  {
    name: 'org create',
    forms: ['--name NAME [--tier TIER] [--stytch-org-id ID]'],
    summary: 'Create an organization',
    description: 'Creates an organization and prints it. Its members sign in through the Stytch organization given.',
    options: {
      name: { value: 'NAME', help: `The name shown in the dashboard: 1–${ruleOf(CreateOrganizationDto, 'name', 'maxLength')} characters, no control characters (required)` },
      tier: { value: 'TIER', help: `${TIER_HELP} (default: free)` },
      'stytch-org-id': { value: 'ID', help: 'The Stytch organization id (organization-test-… or organization-live-…)' },
    },
    async prepare({ values }) {
      const dto = await validated(CreateOrganizationDto, {
        name: required(values.name, '--name'),
        tier: values.tier,
        stytch_organization_id: values['stytch-org-id'],
      });
      const input = { name: dto.name, tier: dto.tier ?? 'free', stytchOrganizationId: dto.stytch_organization_id };
      return async (app) => {
        try {
          return present(await app.get(OrganizationsService).create(input, SYSTEM));
        } catch (error) {
          if ((error as { code?: unknown }).code !== 'P2002') throw error;
          throw new AppError('CONFLICT', 'An organization with this Stytch organization id already exists.');
        }
      };
    },
  },
  {
    name: 'org list',
    forms: [''],
    summary: 'List organizations',
    description: 'Prints every organization, oldest first, as {"data": [...]}.',
    async prepare() {
      return async (app) => ({ data: (await app.get(OrganizationsService).list()).map(present) });
    },
  },
  {
    name: 'org show',
    args: ['ORG_ID'],
    forms: ['ORG_ID'],
    summary: 'Show an organization and its number of active API keys',
    description: 'Prints the organization with active_api_keys: its keys that authenticate now (neither revoked nor expired).',
    async prepare({ args: [id] }) {
      return async (app) => {
        const organization = await findOrganization(app, id);
        return { ...present(organization), active_api_keys: await app.get(ApiKeysService).countActive(organization.id) };
      };
    },
  },
  {
    name: 'org set-tier',
    args: ['ORG_ID', 'TIER'],
    forms: ['ORG_ID TIER'],
    summary: "Change an organization's tier",
    description: `Sets the tier (${TIER_HELP}); running servers apply it from their next request. Recorded in the audit trail.`,
    async prepare({ args: [id, tier] }) {
      const dto = await validated(SetTierDto, { tier });
      return async (app) => present(await app.get(OrganizationsService).setTier(id, dto.tier, SYSTEM));
    },
  },
  {
    name: 'org set-leak-response',
    args: ['ORG_ID', 'RESPONSE'],
    forms: ['ORG_ID RESPONSE'],
    summary: 'Choose what happens to the organization\'s keys found in public',
    description:
      `${LEAK_RESPONSES.join(' or ')}: a key GitHub secret scanning finds in public is revoked at once (the default), or only ` +
      'reported in the audit trail (api_key.leaked). Recorded in the audit trail.',
    async prepare({ args: [id, leakResponse] }) {
      const dto = await validated(UpdateOrganizationDto, { leak_response: leakResponse });
      return async (app) => {
        await findOrganization(app, id);
        return present(await app.get(OrganizationsService).setLeakResponse(id, dto.leak_response, SYSTEM));
      };
    },
  },
];

/** The organization, or NOT_FOUND (exit 1); a malformed id cannot exist and is answered without a query. */
export async function findOrganization(app: INestApplicationContext, id: string): Promise<Organization> {
  const organization = ORG_ID.test(id) ? await app.get(OrganizationsService).find(id) : null;
  if (!organization) throw AppError.notFound('Organization');
  return organization;
}

function present(organization: Organization) {
  return presentOrganization(organization, organization.tier);
}
