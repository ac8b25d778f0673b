import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Observable, mergeMap } from 'rxjs';
import { KeyRevocations } from './key-revocations';

/**
 * A key revoked while its request was being handled gets 401 API_KEY_REVOKED, not the result
 * (the seed: "all in-flight requests using that key will be rejected"). A request that revoked
 * its own key is the exception: it is answered with what it did.
 */
@Injectable()
export class InFlightRevocationInterceptor implements NestInterceptor {
  constructor(private readonly revocations: KeyRevocations) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const startedMs = Date.now() - http.getResponse<FastifyReply>().elapsedTime;
    return next.handle().pipe(
      mergeMap(async (body) => {
        const principal = request.context?.principal;
        if (principal && !request.context.revokedOwnKey) await this.revocations.assertStillLive(principal, startedMs);
        return body;
      }),
    );
  }
}
