import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error';
import { AuthFailureBrake } from '../rate-limiting/auth-failure-brake';
import { KEY_PREFIX } from '../api-keys/key-format';
import { ApiKeyAuthenticator, SessionAuthenticator } from './authenticators';
import { bearerCredential } from './bearer-credential';
import { IS_PUBLIC } from './public.decorator';

/**
 * First global guard: turns the bearer credential into a principal — `luci_…` is an API key,
 * anything else a dashboard session. No shared-store call here; admission comes next.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeyAuthenticator,
    private readonly sessions: SessionAuthenticator,
    private readonly brake: AuthFailureBrake,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    try {
      const credential = bearerCredential(request.headers.authorization);
      request.context.principal = credential.startsWith(KEY_PREFIX)
        ? await this.apiKeys.authenticate(credential)
        : await this.sessions.authenticate(credential);
      return true;
    } catch (error) {
      if (error instanceof AppError && error.status === 401) return this.brake.fail(request.ip, error);
      throw error;
    }
  }
}
