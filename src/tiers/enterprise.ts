import { applyDecorators, SetMetadata } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiErrorResponse } from '../errors/api-error-responses.decorator';

/**
 * The one list of capabilities behind the Enterprise tier (CONTRACT §6). Every path under
 * `/v1/<prefix>` — any method, any depth, routed or not — is gated, matched by whole segment.
 */
export const ENTERPRISE_PREFIXES = ['compliance', 'audit', 'provenance', 'model-cards', 'certifications'] as const;

export const ENTERPRISE_ONLY = 'lv:enterprise-only';

/** Marks a controller as an Enterprise capability (documentation and gate alike). */
export const EnterpriseOnly = (): ClassDecorator & MethodDecorator =>
  applyDecorators(
    SetMetadata(ENTERPRISE_ONLY, true),
    ApiErrorResponse(403, 'ENTERPRISE_REQUIRED: the organization is below the Enterprise tier; `upgrade_url` says where to upgrade.'),
  );

/** `path` as the router decoded it (see routedPath). */
export function isEnterprisePath(path: string): boolean {
  const segments = path.split('/');
  // ['', 'v1', '<prefix>', …]
  return segments[1] === 'v1' && (ENTERPRISE_PREFIXES as readonly string[]).includes(segments[2] ?? '');
}

/**
 * The path the router matched, decoded: the route's pattern, with the wildcard filled in for
 * unrouted paths (`/v1/*` → `/v1/audit/anything`). Never the raw URL, which may be
 * percent-encoded (`/v1/%61udit`) or absolute-form (`http://host/v1/audit`).
 */
export function routedPath(request: FastifyRequest): string {
  const pattern = request.context.route ?? '';
  const rest = (request.params as Record<string, string> | undefined)?.['*'];
  return pattern.endsWith('*') && rest !== undefined ? pattern.slice(0, -1) + rest : pattern;
}
