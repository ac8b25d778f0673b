import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AdmissionService } from '../rate-limiting/admission.service';
import { AuthenticationService } from './authentication.service';

/**
 * Every `/v1` request (CONTRACT §2) is authenticated and admitted in Fastify's `onRequest`,
 * before its body is read: an unauthenticated caller cannot make us parse a megabyte, and a
 * key-authenticated request carries its rate-limit headers whatever fails after (a malformed
 * body, an unknown route, a bug). Added after the CORS and security-header hooks, so refusals
 * carry those too. CORS preflights carry no credentials and are answered by the CORS hook.
 *
 * `selfAuthenticated`: the few routes whose caller proves itself another way (a signature over the
 * body), by route pattern, each with its own check of what can be seen before the body is read.
 * Such a pattern must have only the method it is meant for: another method on its path reaches
 * the `/v1/*` wildcard, which asks for a credential as usual.
 * Those routes get no principal and no rate-limit state; everything else stays as for any route.
 */
export function registerRequestAdmission(
  fastify: FastifyInstance,
  authentication: AuthenticationService,
  admission: AdmissionService,
  selfAuthenticated: ReadonlyMap<string, (request: FastifyRequest) => Promise<void>> = new Map(),
): void {
  fastify.addHook('onRequest', async (request, reply) => {
    // The route the router chose, not the raw URL: `/%761/…` and absolute-form targets
    // (`GET http://host/v1/…`) reach /v1 routes too. Unrouted /v1 paths reach the `/v1/*` wildcard.
    if (request.method === 'OPTIONS' || !request.context.route?.startsWith('/v1/')) return;
    const ownCheck = selfAuthenticated.get(request.context.route);
    if (ownCheck) return ownCheck(request);
    const principal = await authentication.authenticate(request);
    request.context.principal = principal;
    await admission.admit(request, reply, principal);
  });
}
