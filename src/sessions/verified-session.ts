/** What this service needs from a verified Stytch member session. */
export interface VerifiedSession {
  sessionId: string;
  memberId: string;
  organizationId: string;
  organizationSlug: string;
  roles: string[];
  startedAt: string;
  expiresAt: string;
}

/**
 * The SDK's result, checked field by field: it copies claims through without looking at them, so
 * a correctly signed token with a missing `sub`, slug or roles list would otherwise surface as an
 * empty member id or a crash further down. Null when anything needed is missing.
 */
export function readVerifiedSession(value: unknown): VerifiedSession | null {
  if (typeof value !== 'object' || value === null) return null;
  const session = value as Record<string, unknown>;
  const { member_session_id, member_id, organization_id, organization_slug, roles, started_at, expires_at } = session;
  if (!isText(member_session_id) || !isText(member_id) || !isText(organization_id) || !isText(organization_slug)) return null;
  if (!isText(started_at) || !isText(expires_at)) return null;
  if (!Array.isArray(roles) || !roles.every(isText)) return null;
  return {
    sessionId: member_session_id,
    memberId: member_id,
    organizationId: organization_id,
    organizationSlug: organization_slug,
    roles: [...roles],
    startedAt: started_at,
    expiresAt: expires_at,
  };
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}
