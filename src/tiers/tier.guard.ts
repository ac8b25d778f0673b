import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { ENTERPRISE_ONLY, isEnterprisePath, routedPath } from './enterprise';

/** Third global guard: Enterprise capabilities for Enterprise organizations only. */
@Injectable()
export class TierGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const gated =
      this.reflector.getAllAndOverride<boolean>(ENTERPRISE_ONLY, [context.getHandler(), context.getClass()]) ||
      isEnterprisePath(routedPath(request));
    if (!gated || request.context.principal?.tier === 'enterprise') return true;
    throw new AppError('ENTERPRISE_REQUIRED', 'This endpoint requires an Enterprise tier subscription.', {
      upgrade_url: this.config.upgradeUrl,
    });
  }
}
