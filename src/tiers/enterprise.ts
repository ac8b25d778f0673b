import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiForbiddenResponse } from '@nestjs/swagger';
import { ErrorEnvelopeDto } from '../errors/error-envelope';

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
    ApiForbiddenResponse({ type: ErrorEnvelopeDto, description: 'ENTERPRISE_REQUIRED: the organization is below the Enterprise tier' }),
  );

export function isEnterprisePath(url: string): boolean {
  const segments = url.split('?', 1)[0].split('/');
  // ['', 'v1', '<prefix>', …]; the router decodes `%61udit`, so the gate does too
  return segments[1] === 'v1' && (ENTERPRISE_PREFIXES as readonly string[]).includes(decodeSegment(segments[2] ?? ''));
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
