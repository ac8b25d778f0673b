import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DatabaseConnection, connectDatabase } from './connect-database';
import { PrismaService } from './prisma.service';

const CONNECTION = Symbol('DATABASE_CONNECTION');

@Global()
@Module({
  providers: [
    { provide: CONNECTION, inject: [APP_CONFIG], useFactory: (config: AppConfig) => connectDatabase(config) },
    { provide: PrismaService, inject: [CONNECTION], useFactory: (connection: DatabaseConnection) => connection.prisma },
  ],
  exports: [PrismaService, CONNECTION],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(CONNECTION) private readonly connection: DatabaseConnection) {}

  async onApplicationShutdown(): Promise<void> {
    await this.connection.close();
  }
}

export { CONNECTION as DATABASE_CONNECTION };
