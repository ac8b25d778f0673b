import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error';
import { AuthFailureBrake } from '../rate-limiting/auth-failure-brake';
import { KEY_PREFIX } from '../api-keys/key-format';
import { ApiKeyAuthenticator, SessionAuthenticator } from './authenticators';
import { bearerCredential } from './bearer-credential';
import type { Principal } from './principal';

/**
 * Turns the bearer credential into a principal — `luci_…` is an API key, anything else a
 * dashboard session. No shared-store call here; admission comes next. Failures count toward
 * the per-IP brute-force brake.
 */
@Injectable()
export class AuthenticationService {
  constructor(
    private readonly apiKeys: ApiKeyAuthenticator,
    private readonly sessions: SessionAuthenticator,
    private readonly brake: AuthFailureBrake,
  ) {}

  async authenticate(request: FastifyRequest): Promise<Principal> {
    try {
      const credential = bearerCredential(request);
      return credential.startsWith(KEY_PREFIX)
        ? await this.apiKeys.authenticate(credential, request.id)
        : await this.sessions.authenticate(credential, request.id);
    } catch (error) {
      if (error instanceof AppError && error.status === 401) return this.brake.fail(request.ip, request.id, error);
      throw error;
    }
  }
}
