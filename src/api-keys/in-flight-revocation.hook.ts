import type { FastifyInstance, FastifyReply } from 'fastify';
import { API_HEADERS } from '../security-headers';
import { KeyRevocations, revokedError } from './key-revocations';

/** What a handler may have said about its result; none of it belongs on the error that replaces it. */
const RESULT_HEADERS = ['location', 'etag', 'last-modified', 'cache-control', 'content-disposition'];

/**
 * A key revoked while its request was being handled gets 401 API_KEY_REVOKED, not the result
 * (the seed: "all in-flight requests using that key will be rejected"). A request that revoked
 * its own key is the exception: it is answered with what it did. Checked in `onSend`, just
 * before the answer leaves, synchronously unless the store must be asked; errors pass untouched.
 */

export function registerInFlightRevocationCheck(fastify: FastifyInstance, revocations: KeyRevocations): void {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    // No context: a request answered before the onRequest hooks (Fastify's 404 for `OPTIONS *`).
    const principal = request.context?.principal;
    if (!principal || reply.statusCode >= 400) return done(null, payload);
    switch (revocations.inFlightVerdict(principal, Date.now() - reply.elapsedTime)) {
      case 'live':
        return done(null, payload);
      case 'revoked':
        return replaceResult(reply, done, revokedError());
      case 'ask-store':
        // Revoked (401), or the store cannot tell (503): either way not the result.
        revocations.assertLive(principal).then(() => done(null, payload), (error: Error) => replaceResult(reply, done, error));
    }
  });
}

function replaceResult(reply: FastifyReply, done: (error: Error) => void, error: Error): void {
  for (const name of RESULT_HEADERS) reply.removeHeader(name);
  // The error is a /v1 answer like any other: no cache may keep it either (CONTRACT §4).
  reply.header('cache-control', API_HEADERS['cache-control']);
  done(error);
}
