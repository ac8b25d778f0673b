import { DynamicModule, Module } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { AuditModule } from '../audit/audit.module';
import { AppConfig } from '../config/app-config';
import { ConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { OrganizationsModule } from '../organizations/organizations.module';
import { StoreModule } from '../store/store.module';

/** The services the admin command line drives: the same ones the server uses, without HTTP. */
@Module({})
export class AdminModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AdminModule,
      imports: [ConfigModule.register(config), DatabaseModule, StoreModule, AuditModule, OrganizationsModule, ApiKeysModule],
    };
  }
}
