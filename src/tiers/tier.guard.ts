import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { ENTERPRISE_ONLY, isEnterprisePath, routedPath } from './enterprise';

/** The global guard: Enterprise capabilities for Enterprise organizations only. */
@Injectable()
export class TierGuard implements CanActivate {
  /** Per controller class and handler (handlers are shared by subclasses): marked `@EnterpriseOnly()`? */
  private readonly marked = new WeakMap<object, WeakMap<object, boolean>>();

  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (request.context.principal?.tier === 'enterprise' || !this.isGated(context, request)) return true;
    throw new AppError('ENTERPRISE_REQUIRED', 'This endpoint requires an Enterprise tier subscription.', {
      upgrade_url: this.config.upgradeUrl,
    });
  }

  private isGated(context: ExecutionContext, request: FastifyRequest): boolean {
    const [controller, handler] = [context.getClass(), context.getHandler()];
    let byHandler = this.marked.get(controller);
    if (!byHandler) this.marked.set(controller, (byHandler = new WeakMap()));
    let marked = byHandler.get(handler);
    if (marked === undefined) {
      marked = this.reflector.getAllAndOverride<boolean>(ENTERPRISE_ONLY, [handler, controller]) ?? false;
      byHandler.set(handler, marked);
    }
    return marked || isEnterprisePath(routedPath(request));
  }
}
