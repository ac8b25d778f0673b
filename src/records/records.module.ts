import { Module } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { CertificationsController } from '../certifications/certifications.controller';
import { ComplianceController } from '../compliance/compliance.controller';
import { DatasetsModule } from '../datasets/datasets.module';
import { ModelCardsController } from '../model-cards/model-cards.controller';
import { ProvenanceController } from '../provenance/provenance.controller';
import { RecordsRepository } from './records.repository';
import { RecordsService } from './records.service';

/** The four Enterprise record collections: one storage and service, one controller each. */
@Module({
  imports: [ApiKeysModule, DatasetsModule],
  controllers: [ModelCardsController, ProvenanceController, ComplianceController, CertificationsController],
  providers: [RecordsRepository, RecordsService],
})
export class RecordsModule {}
