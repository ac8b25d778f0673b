import { CanActivate, ExecutionContext, Injectable, UseGuards, applyDecorators } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error';
import { assertMayManageKeys } from './roles';

/**
 * The role check of key-managing routes, as a guard: guards run before pipes, so a member who may
 * not manage keys is refused before the body is validated — it learns nothing from it, and can
 * make the service do no work with it.
 */
@Injectable()
export class KeyManagerGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const principal = context.switchToHttp().getRequest<FastifyRequest>().context?.principal;
    // Unreachable under /v1 (admission sets it); refuse rather than let the route run.
    if (!principal) throw new AppError('UNAUTHORIZED', 'Missing credentials. Send Authorization: Bearer <API key or session token>.');
    assertMayManageKeys(principal);
    return true;
  }
}

/** Creates, rotates or revokes API keys: only API keys and members with a key-manager role. */
export const ManagesKeys = (): MethodDecorator & ClassDecorator => applyDecorators(UseGuards(KeyManagerGuard));
