import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { AdmissionStore } from './admission-store';
import { MemoryAdmissionStore } from './memory-admission.store';
import { RedisAdmissionStore } from './redis-admission.store';

@Global()
@Module({
  providers: [
    {
      provide: AdmissionStore,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        config.redisUrl ? new RedisAdmissionStore(config.redisUrl) : new MemoryAdmissionStore(),
    },
  ],
  exports: [AdmissionStore],
})
export class StoreModule implements OnApplicationShutdown {
  constructor(@Inject(AdmissionStore) private readonly store: AdmissionStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
