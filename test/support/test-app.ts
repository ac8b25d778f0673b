import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { ApiKeysService } from '../../src/api-keys/api-keys.service';
import { createApp } from '../../src/app.factory';
import { AppConfig } from '../../src/config/app-config';
import { loadConfig } from '../../src/config/load-config';
import type { Tier } from '../../src/generated/prisma/enums';
import { OrganizationsService } from '../../src/organizations/organizations.service';
import { assertResponsesMatchDocument, recordValidatedCount, watchResponses } from './response-contract';

// Every spec that starts an application has its responses held to the OpenAPI document: a
// response that does not match fails the test that caused it (src/openapi.ts is the truth).
if (typeof afterEach === 'function') {
  afterEach(assertResponsesMatchDocument);
  afterAll(() => {
    recordValidatedCount();
    assertResponsesMatchDocument();
  });
}

export interface Backend {
  name: string;
  databaseUrl?: string;
  redisUrl?: string;
  /** Seed nodes of the local Redis Cluster global setup started (REDIS_CLUSTER_NODES form). */
  redisClusterNodes?: string;
  /** Several instances can share it (only the real services can). */
  shared: boolean;
}

/**
 * The backends this run exercises: real PostgreSQL + Redis when global setup found them, and
 * embedded; with `cluster`, also PostgreSQL + the local Redis Cluster global setup started (the
 * admission cases: keys, revocation, limits, tiers, sessions).
 */
export function backends(options: { cluster?: boolean } = {}): Backend[] {
  const list: Backend[] = [];
  if (process.env.LV_E2E_DATABASE_URL && process.env.LV_E2E_REDIS_URL) {
    list.push({ name: 'PostgreSQL + Redis', databaseUrl: process.env.LV_E2E_DATABASE_URL, redisUrl: process.env.LV_E2E_REDIS_URL, shared: true });
  }
  list.push({ name: 'embedded (PGlite + in-process store)', shared: false });
  if (options.cluster) {
    const cluster = clusterBackend();
    if (cluster) list.push(cluster);
  }
  return list;
}

/** PostgreSQL + the local Redis Cluster (3 primaries, 3 replicas), when global setup started one. */
export function clusterBackend(): Backend | undefined {
  const nodes = process.env.LV_E2E_REDIS_CLUSTER_NODES;
  if (!nodes || !process.env.LV_E2E_DATABASE_URL) return undefined;
  return { name: 'PostgreSQL + Redis Cluster', databaseUrl: process.env.LV_E2E_DATABASE_URL, redisClusterNodes: nodes, shared: true };
}

export function sharedBackend(): Backend | undefined {
  return backends().find((backend) => backend.shared);
}

export interface TestApp {
  app: NestFastifyApplication;
  url: string;
  http: ReturnType<typeof request>;
  config: AppConfig;
  close(): Promise<void>;
}

export async function startApp(backend: Backend, overrides: Partial<AppConfig> = {}): Promise<TestApp> {
  const config: AppConfig = {
    ...loadConfig({}),
    databaseUrl: backend.databaseUrl,
    redisUrl: backend.redisUrl,
    redisCluster: backend.redisClusterNodes ? loadConfig({ REDIS_CLUSTER_NODES: backend.redisClusterNodes }).redisCluster : undefined,
    dataDir: 'memory://',
    logLevel: 'silent',
    ...overrides,
  };
  const app = await createApp(config);
  watchResponses(app);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  return { app, url, http: request(url), config, close: () => app.close() };
}

export interface SeededOrganization {
  id: string;
  /** A key of this organization: its secret and its id. */
  key: string;
  keyId: string;
}

/** An organization with one key, made through the services (as the admin command line does). */
export async function seedOrganization(target: TestApp, tier: Tier = 'free', name = 'Test org'): Promise<SeededOrganization> {
  const system = { type: 'system' as const, id: 'test' };
  const organization = await target.app.get(OrganizationsService).create({ name, tier }, system);
  const created = await target.app.get(ApiKeysService).issue({ organizationId: organization.id, name: 'test key' }, system);
  return { id: organization.id, key: created.key, keyId: created.id };
}

export function bearer(secret: string): { Authorization: string } {
  return { Authorization: `Bearer ${secret}` };
}

/** Asserts the contract envelope and returns its body. */
export function expectEnvelope(response: request.Response, status: number, code: string): Record<string, unknown> {
  expect({ status: response.status, code: response.body?.error?.code }).toEqual({ status, code });
  const error = response.body.error as Record<string, unknown>;
  expect(typeof error.message).toBe('string');
  expect(error.request_id).toBe(response.headers['x-request-id']);
  expect(error.request_id).toMatch(/^req_[0-9a-f]{16,}$/);
  return error;
}
