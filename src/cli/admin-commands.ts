import type { INestApplicationContext } from '@nestjs/common';
import { presentApiKey } from '../api-keys/api-key.presenter';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { ENVIRONMENTS, EnvironmentName } from '../api-keys/dto/create-api-key.dto';
import { TIERS } from '../config/app-config';
import { AppError } from '../errors/app-error';
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

export type Command = (app: INestApplicationContext) => Promise<unknown>;

/**
 * Checks the command line and returns the command to run. Bad usage throws here, before anything
 * connects: a typo must not wait for (or, embedded, create and lock) the database.
 */
export function parseCommand({ positionals, values }: Parsed): Command {
  const [group, command, ...args] = positionals;

  switch (`${group} ${command}`) {
    case 'org create': {
      const input = { name: required(values.name, '--name'), tier: tier(values.tier ?? 'free'), stytchOrganizationId: values['stytch-org-id'] };
      return async (app) => present(await app.get(OrganizationsService).create(input, SYSTEM));
    }
    case 'org set-tier': {
      const [id, newTier] = exactly(args, 2, 'org set-tier ORG_ID TIER');
      const to = tier(newTier);
      return async (app) => present(await app.get(OrganizationsService).setTier(id, to, SYSTEM));
    }
    case 'org list':
      exactly(args, 0, 'org list');
      return async (app) => ({ data: (await app.get(OrganizationsService).list()).map(present) });
    case 'key create': {
      const organizationId = required(values.org, '--org');
      const input = { organizationId, name: required(values.name, '--name'), environment: environment(values.environment) };
      return async (app) => {
        // an unknown organization is a failed command (exit 1), like `org set-tier` on one, not bad usage
        if (!(await app.get(OrganizationsService).find(organizationId))) throw new AppError('NOT_FOUND', `No organization ${organizationId}.`);
        return app.get(ApiKeysService).issue(input, SYSTEM);
      };
    }
    case 'key revoke': {
      const [id] = exactly(args, 1, 'key revoke KEY_ID');
      return async (app) => presentApiKey(await app.get(ApiKeysService).revokeAnywhere(id, SYSTEM));
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
