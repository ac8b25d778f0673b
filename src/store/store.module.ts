import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { AdmissionStore } from './admission-store';
import { MemoryAdmissionStore } from './memory-admission.store';
import { RedisAdmissionStore } from './redis-admission.store';
import { RedisTarget } from './redis-connection';
import { usageNamespace } from './usage-namespace';

@Global()
@Module({
  providers: [
    {
      provide: AdmissionStore,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) => {
        const target = redisTarget(config);
        if (!target) return new MemoryAdmissionStore();
        const store = new RedisAdmissionStore(target, usageNamespace(config));
        // Redis down at start is not fatal: requests answer 503 until it comes back.
        if (!(await store.connected(5000))) new Logger(StoreModule.name).warn('Redis is not reachable yet; serving 503 until it is.');
        return store;
      },
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

function redisTarget(config: AppConfig): RedisTarget | undefined {
  if (config.redisCluster) return { kind: 'cluster', cluster: config.redisCluster };
  return config.redisUrl ? { kind: 'single', url: config.redisUrl } : undefined;
}
