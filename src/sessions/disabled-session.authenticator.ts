import { Injectable } from '@nestjs/common';
import { SessionAuthenticator } from '../auth/authenticators';
import type { MemberPrincipal } from '../auth/principal';
import { AppError } from '../errors/app-error';

/** Without STYTCH_PROJECT_ID/STYTCH_SECRET no session can be verified (CONTRACT §1). */
@Injectable()
export class DisabledSessionAuthenticator extends SessionAuthenticator {
  async authenticate(): Promise<MemberPrincipal> {
    throw new AppError('INVALID_SESSION', 'Dashboard sessions are not enabled on this server. Use an API key (luci_…).');
  }
}
