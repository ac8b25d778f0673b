import type { LeakResponse, Tier } from '../generated/prisma/enums';

/**
 * An organization as the hot path holds it; the tier is not here — it is read fresh per request.
 * `leakResponse` is shown, not enforced, from here: secret scanning reads it from the database.
 */
export interface OrganizationRecord {
  id: string;
  name: string;
  stytchOrganizationId: string | null;
  leakResponse: LeakResponse;
  createdAt: Date;
}

/**
 * An API key as the hot path holds it (never the secret). Its own rate limit is not here: it can
 * change, so admission reads it from the key's state in the shared store.
 */
export interface KeyRecord {
  id: string;
  organizationId: string;
  expiresAtMs: number | null;
  revokeAtMs: number | null;
}

export interface ApiKeyPrincipal {
  kind: 'api_key';
  /** The request this principal was authenticated for: audit events and log lines name it. */
  requestId: string;
  organization: OrganizationRecord;
  key: KeyRecord;
  /** Filled in by admission, from the shared store. */
  tier?: Tier;
}

export interface MemberSession {
  id: string;
  startedAt: string;
  expiresAt: string;
}

export interface MemberPrincipal {
  kind: 'member';
  requestId: string;
  organization: OrganizationRecord;
  memberId: string;
  organizationSlug: string;
  roles: string[];
  session: MemberSession;
  tier?: Tier;
}

export type Principal = ApiKeyPrincipal | MemberPrincipal;

export interface Actor {
  type: 'api_key' | 'member' | 'system';
  id: string;
  /** The API request it acted in; none for the admin CLI and start-up. */
  requestId?: string;
}

export function actorOf(principal: Principal | undefined): Actor {
  if (!principal) return { type: 'system', id: 'system' };
  const { requestId } = principal;
  return principal.kind === 'api_key' ? { type: 'api_key', id: principal.key.id, requestId } : { type: 'member', id: principal.memberId, requestId };
}
