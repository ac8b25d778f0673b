import { Injectable } from '@nestjs/common';
import { KeyRevocations } from '../api-keys/key-revocations';
import { Principal, actorOf } from '../auth/principal';
import { AuditService } from '../audit/audit.service';
import { idPattern, newId } from '../database/ids';
import { AppError } from '../errors/app-error';
import { ListQueryDto, Page, toPage } from '../pagination/list-query.dto';
import { DatasetView, presentDataset } from './dataset.presenter';
import { DatasetsRepository } from './datasets.repository';
import { CreateDatasetDto } from './dto/create-dataset.dto';

const DATASET_ID = idPattern('ds');

@Injectable()
export class DatasetsService {
  constructor(
    private readonly repository: DatasetsRepository,
    private readonly audit: AuditService,
    private readonly revocations: KeyRevocations,
  ) {}

  async create(principal: Principal, dto: CreateDatasetDto): Promise<DatasetView> {
    const organizationId = principal.organization.id;
    const dataset = await this.repository.transaction(async (tx) => {
      const created = await this.repository.create(tx, { id: newId('ds'), organizationId, name: dto.name, description: dto.description ?? null });
      await this.audit.record(tx, {
        organizationId,
        type: 'dataset.created',
        actor: actorOf(principal),
        target: { type: 'dataset', id: created.id },
        data: { name: created.name },
      });
      await this.revocations.assertLive(principal);
      return created;
    });
    return presentDataset(dataset);
  }

  async list(principal: Principal, query: ListQueryDto): Promise<Page<DatasetView>> {
    return toPage(await this.repository.list(principal.organization.id, query), query.limit ?? 20, presentDataset);
  }

  async get(principal: Principal, id: string): Promise<DatasetView> {
    const dataset = DATASET_ID.test(id) ? await this.repository.find(principal.organization.id, id) : null;
    if (!dataset) throw AppError.notFound('Dataset');
    return presentDataset(dataset);
  }

  async delete(principal: Principal, id: string): Promise<void> {
    const organizationId = principal.organization.id;
    await this.repository.transaction(async (tx) => {
      if (!DATASET_ID.test(id) || !(await this.repository.delete(tx, organizationId, id))) throw AppError.notFound('Dataset');
      await this.audit.record(tx, { organizationId, type: 'dataset.deleted', actor: actorOf(principal), target: { type: 'dataset', id } });
      await this.revocations.assertLive(principal);
    });
  }
}
