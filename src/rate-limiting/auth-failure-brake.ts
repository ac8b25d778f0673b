import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { AdmissionStore } from '../store/admission-store';
import { retryAfterSeconds } from './rate-limit-headers';

const FAILURE_WINDOW_MS = 60_000;

/**
 * A brake on credential guessing: failed authentications per client IP go into their own
 * sliding window; past AUTH_FAILURE_MAX in 60 s, failures are answered 429 instead of 401.
 * Successful requests from the same IP are never slowed by it.
 */
@Injectable()
export class AuthFailureBrake {
  private readonly logger = new Logger(AuthFailureBrake.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly store: AdmissionStore,
  ) {}

  /** Counts the failure, then throws it — or RATE_LIMITED when this IP has failed too often. */
  async fail(ip: string, requestId: string, failure: AppError): Promise<never> {
    let result;
    try {
      result = await this.store.admit({
        subject: `ip:${ip}`,
        entry: requestId,
        max: this.config.authFailureMax,
        windowMs: FAILURE_WINDOW_MS,
      });
    } catch (error) {
      // Without the store the failure cannot be counted; it is still a failure.
      this.logger.warn({ request_id: requestId }, `Could not count an authentication failure: ${(error as Error).message}`);
      throw failure;
    }
    if (result.outcome !== 'limited') throw failure;
    const seconds = retryAfterSeconds(result.rateLimit);
    throw new AppError('RATE_LIMITED', `Rate limit exceeded. Retry after ${seconds} seconds.`, { retry_after: seconds });
  }
}
