import { Module } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { AuthFailureBrake } from '../rate-limiting/auth-failure-brake';
import { GithubPublicKeys } from './github-public-keys';
import { SecretScanningController } from './secret-scanning.controller';
import { SecretScanningRepository } from './secret-scanning.repository';
import { SecretScanningService } from './secret-scanning.service';

/** GitHub's secret-scanning partner endpoint. The brake is stateless (its state is in the store): its own instance here. */
@Module({
  imports: [ApiKeysModule],
  controllers: [SecretScanningController],
  providers: [GithubPublicKeys, SecretScanningRepository, SecretScanningService, AuthFailureBrake],
  exports: [SecretScanningService],
})
export class SecretScanningModule {}
