import { Module } from '@nestjs/common';
import { SessionAuthenticator } from '../auth/authenticators';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { OrganizationsModule } from '../organizations/organizations.module';
import { OrganizationsService } from '../organizations/organizations.service';
import { DisabledSessionAuthenticator } from './disabled-session.authenticator';
import { SessionsController } from './sessions.controller';
import { StytchSessionAuthenticator } from './stytch-session.authenticator';

/** Dashboard sessions: verified by Stytch when STYTCH_PROJECT_ID/STYTCH_SECRET are set, refused otherwise. */
@Module({
  imports: [OrganizationsModule],
  controllers: [SessionsController],
  providers: [
    {
      provide: SessionAuthenticator,
      inject: [APP_CONFIG, OrganizationsService],
      useFactory: (config: AppConfig, organizations: OrganizationsService): SessionAuthenticator =>
        config.stytch ? new StytchSessionAuthenticator(config.stytch, organizations) : new DisabledSessionAuthenticator(),
    },
  ],
  exports: [SessionAuthenticator],
})
export class SessionsModule {}
