import { presentApiKey } from '../api-keys/api-key.presenter';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { CreateApiKeyDto, ENVIRONMENTS, RateLimitDto } from '../api-keys/dto/create-api-key.dto';
import { type CommandSpec, SYSTEM, UsageError, asNumber, required, ruleOf, validated } from './command-spec';
import { findOrganization } from './org-commands';

export const KEY_COMMANDS: CommandSpec[] = [
  {
    name: 'key create',
    forms: ['--org ORG_ID --name NAME [--environment ENV]'],
    summary: 'Create an API key; its secret is printed this once',
    description: 'Creates an API key for the organization and prints the key object plus `key`, the secret. Store it now: it cannot be read back.',
    options: {
      org: { value: 'ORG_ID', help: 'The organization that owns the key (required)' },
      name: { value: 'NAME', help: `A name to recognise the key: 1–${ruleOf(CreateApiKeyDto, 'name', 'maxLength')} characters, no control characters (required)` },
      environment: { value: 'ENV', help: `${ENVIRONMENTS.join(', ')} (default: production)` },
    },
    async prepare({ values }) {
      const organizationId = required(values.org, '--org');
      const dto = await validated(CreateApiKeyDto, { name: required(values.name, '--name'), environment: values.environment });
      return async (app) => {
        await findOrganization(app, organizationId);
        return app.get(ApiKeysService).issue({ organizationId, name: dto.name, environment: dto.environment }, SYSTEM);
      };
    },
  },
  {
    name: 'key list',
    forms: ['--org ORG_ID [--include-revoked]'],
    summary: "List an organization's API keys (never their secrets)",
    description: 'Prints the keys of the organization, newest first, as {"data": [...]}. Revoked keys are left out unless asked for.',
    options: {
      org: { value: 'ORG_ID', help: 'The organization (required)' },
      'include-revoked': { help: 'Also list revoked keys' },
    },
    async prepare({ values }) {
      const organizationId = required(values.org, '--org');
      const includeRevoked = values['include-revoked'] === true;
      return async (app) => {
        await findOrganization(app, organizationId);
        return { data: (await app.get(ApiKeysService).listAnywhere(organizationId, includeRevoked)).map(presentApiKey) };
      };
    },
  },
  {
    name: 'key revoke',
    args: ['KEY_ID'],
    forms: ['KEY_ID'],
    summary: 'Revoke an API key at once',
    description: 'Revokes the key now, on every server sharing REDIS_URL. Revoking a revoked key changes nothing.',
    async prepare({ args: [id] }) {
      return async (app) => presentApiKey(await app.get(ApiKeysService).revokeAnywhere(id, SYSTEM));
    },
  },
  {
    name: 'key set-limit',
    args: ['KEY_ID'],
    forms: ['KEY_ID --max N --window-seconds S', 'KEY_ID --default'],
    summary: "Set or clear an API key's own rate limit",
    description:
      'Gives the key its own sliding-window limit: at most N requests in any S seconds. Unlike the API, an operator ' +
      'may set a limit above the default. --default removes it, so the default limit applies again. Recorded in the audit trail.',
    options: {
      max: { value: 'N', help: `Requests per window: a whole number from ${bounds('max')}` },
      'window-seconds': { value: 'S', help: `Window length in seconds: a whole number from ${bounds('window_seconds')}` },
      default: { help: 'Clear the key\'s own limit' },
    },
    async prepare({ args: [id], values }) {
      let limit: { max: number; windowSeconds: number } | null = null;
      if (values.default === true) {
        if (values.max !== undefined || values['window-seconds'] !== undefined) {
          throw new UsageError('--default cannot be combined with --max or --window-seconds');
        }
      } else {
        const dto = await validated(RateLimitDto, {
          max: asNumber(required(values.max, '--max (or --default)')),
          window_seconds: asNumber(required(values['window-seconds'], '--window-seconds')),
        });
        limit = { max: dto.max, windowSeconds: dto.window_seconds };
      }
      return async (app) => presentApiKey(await app.get(ApiKeysService).setRateLimit(id, limit, SYSTEM));
    },
  },
];

function bounds(property: keyof RateLimitDto): string {
  return `${ruleOf(RateLimitDto, property, 'min')} to ${ruleOf(RateLimitDto, property, 'max')}`;
}
