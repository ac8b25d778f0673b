import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error';
import type { Principal } from './principal';

/** The authenticated caller of this request (set by the admission hook for every /v1 route). */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<FastifyRequest>().context?.principal;
  // Unreachable while every authenticated route lives under /v1; refuse rather than serve anonymously.
  if (!principal) throw new AppError('UNAUTHORIZED', 'Missing credentials. Send Authorization: Bearer <API key or session token>.');
  return principal;
});
