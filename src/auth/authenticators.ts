import type { ApiKeyPrincipal, MemberPrincipal } from './principal';

/**
 * The two kinds of bearer credential (CONTRACT §2), each verified by its own module:
 * api-keys/ for `luci_…` keys, sessions/ for Stytch session JWTs. Both throw AppError 401s.
 */
export abstract class ApiKeyAuthenticator {
  abstract authenticate(credential: string, requestId: string): Promise<ApiKeyPrincipal>;
  /** Puts the key's and its organization's state into the admission store after it lost them. */
  abstract seedState(principal: ApiKeyPrincipal): Promise<void>;
}

export abstract class SessionAuthenticator {
  abstract authenticate(token: string, requestId: string): Promise<MemberPrincipal>;
}
