import { randomUUID } from 'node:crypto';
import { ApiKeysService } from '../../src/api-keys/api-keys.service';
import type { Tier } from '../../src/generated/prisma/enums';
import { OrganizationsService } from '../../src/organizations/organizations.service';
import type { StytchFixture } from './stytch-fixture';
import type { TestApp } from './test-app';

/**
 * An organization that can be reached both ways a client can: with an API key, and with
 * dashboard sessions of members of its Stytch organization. Made through the services, as the
 * admin command line does (`org create --tier … --stytch-org-id …`, `key create`).
 */
export interface LinkedOrganization {
  id: string;
  name: string;
  stytchOrganizationId: string;
  /** A key of this organization: its secret and its id. */
  key: string;
  keyId: string;
  /** A fresh session JWT of an admin (`stytch_admin`) of this organization. */
  adminToken(): Promise<string>;
  /** A fresh session JWT of a plain member of this organization. */
  memberToken(): Promise<string>;
}

export async function linkedOrganization(target: TestApp, fixture: StytchFixture, name: string, tier: Tier = 'enterprise'): Promise<LinkedOrganization> {
  const system = { type: 'system' as const, id: 'test' };
  const stytchOrganizationId = `organization-test-${randomUUID()}`;
  const slug = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${stytchOrganizationId.slice(-6)}`;
  const organization = await target.app.get(OrganizationsService).create({ name, tier, stytchOrganizationId }, system);
  const created = await target.app.get(ApiKeysService).issue({ organizationId: organization.id, name: `${name} key` }, system);
  const adminId = `member-test-${randomUUID()}`;
  const memberId = `member-test-${randomUUID()}`;
  return {
    id: organization.id,
    name,
    stytchOrganizationId,
    key: created.key,
    keyId: created.id,
    adminToken: () => fixture.mint({ memberId: adminId, organizationId: stytchOrganizationId, slug, roles: ['stytch_member', 'stytch_admin'] }),
    memberToken: () => fixture.mint({ memberId, organizationId: stytchOrganizationId, slug, roles: ['stytch_member'] }),
  };
}

/** `{id}`-style OpenAPI paths and their methods, from the served document. */
export interface RouteEntry {
  path: string;
  methods: string[];
  /** The operation objects, by upper-case method. */
  operations: Record<string, OpenApiOperation>;
}

export interface OpenApiOperation {
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: OpenApiSchema }>;
  requestBody?: { required?: boolean; content?: Record<string, { schema?: OpenApiSchema }> };
}

export interface OpenApiSchema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  example?: unknown;
  default?: unknown;
  minimum?: number;
  format?: string;
  required?: string[];
  properties?: Record<string, OpenApiSchema>;
  items?: OpenApiSchema;
  allOf?: OpenApiSchema[];
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, OpenApiSchema> };
}

const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'trace'];

export function routeTable(document: OpenApiDocument): RouteEntry[] {
  return Object.entries(document.paths).map(([path, item]) => {
    const operations: Record<string, OpenApiOperation> = {};
    for (const [method, operation] of Object.entries(item)) {
      if (HTTP_METHODS.includes(method)) operations[method.toUpperCase()] = operation;
    }
    return { path, methods: Object.keys(operations).sort(), operations };
  });
}

/**
 * A smallest valid JSON body for an operation, from its schema: required properties only, each
 * from its example, default, enum or type. `undefined` when the operation takes no body.
 */
export function minimalBody(document: OpenApiDocument, operation: OpenApiOperation): unknown {
  const schema = operation.requestBody?.content?.['application/json']?.schema;
  if (!schema) return undefined;
  return sample(document, schema, 0) ?? {};
}

function sample(document: OpenApiDocument, schema: OpenApiSchema, depth: number): unknown {
  const resolved = resolve(document, schema);
  if (resolved.example !== undefined) return resolved.example;
  if (resolved.default !== undefined) return resolved.default;
  if (resolved.enum && resolved.enum.length > 0) return resolved.enum[0];
  if (resolved.allOf) return Object.assign({}, ...resolved.allOf.map((part) => sample(document, part, depth + 1)));
  switch (resolved.type) {
    case 'string':
      return resolved.format === 'date-time' ? new Date(Date.now() + 86_400_000).toISOString() : 'matrix';
    case 'integer':
    case 'number':
      return resolved.minimum ?? 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    default: {
      if (depth > 5) return {};
      const body: Record<string, unknown> = {};
      for (const name of resolved.required ?? []) {
        const property = resolved.properties?.[name];
        body[name] = property ? sample(document, property, depth + 1) : 'matrix';
      }
      return body;
    }
  }
}

function resolve(document: OpenApiDocument, schema: OpenApiSchema): OpenApiSchema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.split('/').pop()!;
  return document.components?.schemas?.[name] ?? {};
}
