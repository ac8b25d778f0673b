import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { AuditModule } from './audit/audit.module';
import { AuthenticationService } from './auth/authentication.service';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { DatasetsModule } from './datasets/datasets.module';
import { AllExceptionsFilter } from './errors/all-exceptions.filter';
import { RouteTable } from './errors/route-table';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { OrganizationsModule } from './organizations/organizations.module';
import { RecordsModule } from './records/records.module';
import { UnroutedController } from './routing/unrouted.controller';
import { AdmissionService } from './rate-limiting/admission.service';
import { AuthFailureBrake } from './rate-limiting/auth-failure-brake';
import { LoggingModule } from './request-context/logger.module';
import { SecretScanningModule } from './secret-scanning/secret-scanning.module';
import { SessionsModule } from './sessions/sessions.module';
import { StoreModule } from './store/store.module';
import { TierGuard } from './tiers/tier.guard';
import { WebhooksModule } from './webhooks/webhooks.module';

/**
 * A /v1 request meets, in order: who is calling (AuthenticationService) → may they call now
 * (AdmissionService: revocation, expiry, tier and rate limit in one store call) — both in the
 * `onRequest` hook, before the body is read — then the global TierGuard: does their plan allow it.
 */
@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.register(config),
        LoggingModule.register(config),
        DatabaseModule,
        StoreModule,
        HealthModule,
        MetricsModule,
        AuditModule,
        OrganizationsModule,
        ApiKeysModule,
        SessionsModule,
        DatasetsModule,
        RecordsModule,
        SecretScanningModule,
        WebhooksModule,
      ],
      controllers: [UnroutedController],
      providers: [
        RouteTable,
        AuthFailureBrake,
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        AuthenticationService,
        AdmissionService,
        { provide: APP_GUARD, useClass: TierGuard },
      ],
    };
  }
}
