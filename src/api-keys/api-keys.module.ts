import { Module } from '@nestjs/common';
import { ApiKeyAuthenticator } from '../auth/authenticators';
import { OrganizationsModule } from '../organizations/organizations.module';
import { ActiveKeyCap } from './active-key-cap';
import { CachedApiKeyAuthenticator } from './api-key.authenticator';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { KeyRevocations } from './key-revocations';
import { UsageFlusher } from './usage/usage-flusher';
import { UsageSpikeDetector } from './usage/usage-spike.detector';
import { UsageSpikeRepository } from './usage/usage-spike.repository';
import { UsageRepository } from './usage/usage.repository';
import { UsageService } from './usage/usage.service';

@Module({
  imports: [OrganizationsModule],
  controllers: [ApiKeysController],
  providers: [
    ActiveKeyCap,
    ApiKeysRepository,
    ApiKeysService,
    KeyRevocations,
    UsageRepository,
    UsageService,
    UsageFlusher,
    UsageSpikeDetector,
    UsageSpikeRepository,
    { provide: ApiKeyAuthenticator, useClass: CachedApiKeyAuthenticator },
  ],
  exports: [ApiKeyAuthenticator, ApiKeysService, KeyRevocations, UsageFlusher],
})
export class ApiKeysModule {}
