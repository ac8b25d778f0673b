import { Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DATABASE_CONNECTION } from '../database/database.module';
import { DeliveriesRepository } from './delivery/deliveries.repository';
import { DeliveryAttempts } from './delivery/delivery-attempts';
import { WebhookWorker } from './delivery/webhook-worker';
import { WebhookSecrets, resolveWebhookSecrets } from './webhook-secrets';
import { WebhooksController } from './webhooks.controller';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

@Module({
  controllers: [WebhooksController],
  providers: [
    {
      provide: WebhookSecrets,
      // After the database connection: embedded, it has made DATA_DIR private before the key file goes in.
      inject: [APP_CONFIG, DATABASE_CONNECTION],
      useFactory: (config: AppConfig) => resolveWebhookSecrets({ ...config, secretsKey: config.webhooks.secretsKey }),
    },
    WebhooksRepository,
    DeliveriesRepository,
    DeliveryAttempts,
    WebhooksService,
    WebhookWorker,
  ],
})
export class WebhooksModule {}
