import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { distPath } from './settings';

/**
 * Child process: creates the organizations and API keys a run measures with, through the
 * service's own AdminModule and services (compiled, from dist/) — the path `npm run admin` takes,
 * so keys are hashed, audited and announced to the admission store exactly as in production.
 * Usage: node bench/dist/seed.js <out.json> <organizations> <keys per organization>
 */
export interface SeededOrganization {
  id: string;
  name: string;
  tier: string;
  stytchOrganizationId: string;
}

export interface Seed {
  organizations: SeededOrganization[];
  keys: Array<{ id: string; organizationId: string; secret: string }>;
}

interface OrganizationsServiceLike {
  create(input: { name: string; tier?: string; stytchOrganizationId?: string }, actor: object): Promise<SeededOrganization>;
}
interface ApiKeysServiceLike {
  issue(input: { organizationId: string; name: string }, actor: object): Promise<{ id: string; key: string }>;
}

const TIERS = ['standard', 'enterprise', 'free'];
const ACTOR = { type: 'system', id: 'bench' };
const CONCURRENCY = 10; // the service's pool size

async function main(): Promise<void> {
  const [out, organizationCount, keysPerOrganization] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NestFactory } = require('@nestjs/core') as typeof import('@nestjs/core');
  const { loadConfig } = require(distPath('config/load-config.js'));
  const { AdminModule } = require(distPath('cli/admin.module.js'));
  const { OrganizationsService } = require(distPath('organizations/organizations.service.js'));
  const { ApiKeysService } = require(distPath('api-keys/api-keys.service.js'));
  /* eslint-enable @typescript-eslint/no-require-imports */

  const config = { ...loadConfig(process.env), logLevel: 'silent' };
  const app = await NestFactory.createApplicationContext(AdminModule.register(config), { logger: false });
  try {
    const organizations = app.get<OrganizationsServiceLike>(OrganizationsService);
    const apiKeys = app.get<ApiKeysServiceLike>(ApiKeysService);
    const seed: Seed = { organizations: [], keys: [] };
    for (let index = 0; index < organizationCount; index++) {
      const organization = await organizations.create(
        { name: `bench-org-${index + 1}`, tier: TIERS[index % TIERS.length], stytchOrganizationId: `organization-test-bench-${randomUUID()}` },
        ACTOR,
      );
      seed.organizations.push({
        id: organization.id,
        name: organization.name,
        tier: organization.tier,
        stytchOrganizationId: organization.stytchOrganizationId,
      });
    }
    const jobs = seed.organizations.flatMap((organization) =>
      Array.from({ length: keysPerOrganization }, (_, index) => ({ organization, name: `bench key ${index + 1}` })),
    );
    const next = { value: 0 };
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let job = jobs[next.value++]; job; job = jobs[next.value++]) {
          const key = await apiKeys.issue({ organizationId: job.organization.id, name: job.name }, ACTOR);
          seed.keys.push({ id: key.id, organizationId: job.organization.id, secret: key.key });
        }
      }),
    );
    writeFileSync(out, JSON.stringify(seed));
  } finally {
    await app.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`seed failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
