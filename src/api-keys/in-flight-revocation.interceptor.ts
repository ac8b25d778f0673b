import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Observable, map } from 'rxjs';
import { KeyRevocations, revokedError } from './key-revocations';

/**
 * A key revoked while its request was being handled gets 401 API_KEY_REVOKED, not the result
 * (the seed: "all in-flight requests using that key will be rejected"). A request that revoked
 * its own key is the exception: it is answered with what it did.
 */
@Injectable()
export class InFlightRevocationInterceptor implements NestInterceptor {
  constructor(private readonly revocations: KeyRevocations) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    return next.handle().pipe(
      map((body) => {
        const principal = request.context?.principal;
        if (principal?.kind === 'api_key' && !request.context.revokedOwnKey && this.revocations.isRevoked(principal.key.id)) {
          throw revokedError();
        }
        return body;
      }),
    );
  }
}
