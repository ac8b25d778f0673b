import { AppError } from '../errors/app-error';
import type { Principal } from './principal';

/**
 * Stytch RBAC roles that may create, rotate and revoke API keys. Every member may list and read
 * them. Add a custom role (e.g. 'api_key_admin') here.
 */
export const KEY_MANAGER_ROLES: readonly string[] = ['stytch_admin'];

/** API keys act for their whole organization; members need a key-manager role. */
export function assertMayManageKeys(principal: Principal): void {
  if (principal.kind === 'api_key') return;
  if (principal.roles.some((role) => KEY_MANAGER_ROLES.includes(role))) return;
  throw new AppError('FORBIDDEN', 'Your role does not allow managing API keys. Ask an organization admin.');
}
