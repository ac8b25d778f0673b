import type { INestApplicationContext } from '@nestjs/common';
import { presentApiKey } from '../api-keys/api-key.presenter';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { ENVIRONMENTS, EnvironmentName } from '../api-keys/dto/create-api-key.dto';
import { TIERS } from '../config/app-config';
import type { Organization } from '../generated/prisma/client';
import type { Tier } from '../generated/prisma/enums';
import { presentOrganization } from '../organizations/organization.presenter';
import { OrganizationsService } from '../organizations/organizations.service';

export class UsageError extends Error {}

export interface Parsed {
  positionals: string[];
  values: { name?: string; tier?: string; 'stytch-org-id'?: string; org?: string; environment?: string };
}

const SYSTEM = { type: 'system' as const, id: 'admin-cli' };

export const USAGE = `Usage: npm run -s admin -- <command> [--json]
  org create --name N [--tier free|standard|enterprise] [--stytch-org-id ID]
  org set-tier ORG_ID TIER
  org list
  key create --org ORG_ID --name N [--environment development|staging|production]
  key revoke KEY_ID`;

/** Runs one admin command and returns the object it prints. */
export async function runCommand(app: INestApplicationContext, { positionals, values }: Parsed): Promise<unknown> {
  const organizations = app.get(OrganizationsService);
  const keys = app.get(ApiKeysService);
  const [group, command, ...args] = positionals;

  switch (`${group} ${command}`) {
    case 'org create': {
      const organization = await organizations.create(
        { name: required(values.name, '--name'), tier: tier(values.tier ?? 'free'), stytchOrganizationId: values['stytch-org-id'] },
        SYSTEM,
      );
      return present(organization);
    }
    case 'org set-tier': {
      const [id, newTier] = exactly(args, 2, 'org set-tier ORG_ID TIER');
      return present(await organizations.setTier(id, tier(newTier), SYSTEM));
    }
    case 'org list':
      return { data: (await organizations.list()).map(present) };
    case 'key create': {
      const organization = await organizations.find(required(values.org, '--org'));
      if (!organization) throw new UsageError(`No organization ${values.org}.`);
      return keys.issue(
        { organizationId: organization.id, name: required(values.name, '--name'), environment: environment(values.environment) },
        SYSTEM,
      );
    }
    case 'key revoke': {
      const [id] = exactly(args, 1, 'key revoke KEY_ID');
      return presentApiKey(await keys.revokeAnywhere(id, SYSTEM));
    }
    default:
      throw new UsageError(USAGE);
  }
}

function present(organization: Organization) {
  return presentOrganization(organization, organization.tier);
}

function required(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`${flag} is required.\n${USAGE}`);
  return value;
}

function exactly(args: string[], count: number, form: string): string[] {
  if (args.length !== count) throw new UsageError(`Usage: npm run -s admin -- ${form}`);
  return args;
}

function tier(value: string): Tier {
  if (!(TIERS as string[]).includes(value)) throw new UsageError(`Tier must be one of ${TIERS.join(', ')}.`);
  return value as Tier;
}

function environment(value: string | undefined): EnvironmentName | undefined {
  if (value !== undefined && !(ENVIRONMENTS as readonly string[]).includes(value)) {
    throw new UsageError(`Environment must be one of ${ENVIRONMENTS.join(', ')}.`);
  }
  return value as EnvironmentName | undefined;
}
