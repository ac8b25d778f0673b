import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyAuthenticator } from '../auth/authenticators';
import { Principal } from '../auth/principal';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { OrganizationsService } from '../organizations/organizations.service';
import { keySubject } from '../store/key-layout';
import { AdmissionStore, AdmitRequest, AdmitResult } from '../store/admission-store';
import { AuthFailureBrake } from './auth-failure-brake';
import { retryAfterSeconds, writeRateLimitHeaders } from './rate-limit-headers';

/**
 * The one shared-store call of a request. In one atomic step it checks the key's revocation and
 * expiry, reads the organization's tier, applies the sliding window and counts usage — so
 * revocations and tier changes hold from the next request, on every instance.
 */
@Injectable()
export class AdmissionService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly store: AdmissionStore,
    private readonly apiKeys: ApiKeyAuthenticator,
    private readonly organizations: OrganizationsService,
    private readonly brake: AuthFailureBrake,
  ) {}

  /** Admits the request or throws its refusal; the rate-limit headers are on the reply either way. */
  async admit(request: FastifyRequest, reply: FastifyReply, principal: Principal): Promise<void> {
    const result = await this.run(principal, request.id, request.ip);
    if (result.outcome === 'revoked' || result.outcome === 'expired' || result.outcome === 'missing') {
      return this.brake.fail(request.ip, request.id, refusal(result.outcome));
    }
    principal.tier = result.tier;
    request.context.rateLimit = result.rateLimit;
    writeRateLimitHeaders(reply, result.rateLimit);
    if (result.outcome === 'limited') {
      const seconds = retryAfterSeconds(result.rateLimit);
      throw new AppError('RATE_LIMITED', `Rate limit exceeded. Retry after ${seconds} seconds.`, { retry_after: seconds });
    }
  }

  private async run(principal: Principal, requestId: string, clientIp: string): Promise<AdmitResult> {
    const request = this.admitRequest(principal, requestId, clientIp);
    const result = await this.store.admit(request);
    if (result.outcome !== 'missing') return result;
    // The store lost (or never had) this key's or organization's state: seed it from PostgreSQL once.
    if (principal.kind === 'api_key') await this.apiKeys.seedState(principal);
    else await this.organizations.seedTier(principal.organization.id, request.subject);
    return this.store.admit(request);
  }

  /** `clientIp`: Fastify's `request.ip`, the X-Forwarded-For client only behind a trusted proxy (TRUST_PROXY). */
  private admitRequest(principal: Principal, requestId: string, clientIp: string): AdmitRequest {
    if (principal.kind === 'api_key') {
      // the default: a key with a limit of its own carries it in its store state
      return {
        subject: keySubject(principal.key.id),
        entry: requestId,
        max: this.config.rateLimit.max,
        windowMs: this.config.rateLimit.windowSeconds * 1000,
        keyId: principal.key.id,
        organizationId: principal.organization.id,
        usageKeyId: principal.key.id,
        clientIp,
      };
    }
    return {
      subject: `m:${principal.memberId}`,
      entry: requestId,
      max: this.config.rateLimit.max,
      windowMs: this.config.rateLimit.windowSeconds * 1000,
      organizationId: principal.organization.id,
    };
  }
}

function refusal(outcome: 'revoked' | 'expired' | 'missing'): AppError {
  if (outcome === 'revoked') return new AppError('API_KEY_REVOKED', 'This API key has been revoked.');
  if (outcome === 'expired') return new AppError('API_KEY_EXPIRED', 'This API key has expired.');
  return new AppError('INVALID_API_KEY', 'The API key is not valid.');
}
