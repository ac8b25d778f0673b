import type { FastifyInstance } from 'fastify';
import { AdmissionService } from '../rate-limiting/admission.service';
import { AuthenticationService } from './authentication.service';

/**
 * Every `/v1` request (CONTRACT §2) is authenticated and admitted in Fastify's `onRequest`,
 * before its body is read: an unauthenticated caller cannot make us parse a megabyte, and a
 * key-authenticated request carries its rate-limit headers whatever fails after (a malformed
 * body, an unknown route, a bug). Added after the CORS and security-header hooks, so refusals
 * carry those too. CORS preflights carry no credentials and are answered by the CORS hook.
 */
export function registerRequestAdmission(
  fastify: FastifyInstance,
  authentication: AuthenticationService,
  admission: AdmissionService,
): void {
  fastify.addHook('onRequest', async (request, reply) => {
    // The route the router chose, not the raw URL: `/%761/…` and absolute-form targets
    // (`GET http://host/v1/…`) reach /v1 routes too. Unrouted /v1 paths reach the `/v1/*` wildcard.
    if (request.method === 'OPTIONS' || !request.context.route?.startsWith('/v1/')) return;
    const principal = await authentication.authenticate(request);
    request.context.principal = principal;
    await admission.admit(request, reply, principal);
  });
}
