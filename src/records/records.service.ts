import { Injectable } from '@nestjs/common';
import type { Prisma } from '../generated/prisma/client';
import { KeyRevocations } from '../api-keys/key-revocations';
import { Principal, actorOf } from '../auth/principal';
import { AuditService } from '../audit/audit.service';
import { DatasetsRepository } from '../datasets/datasets.repository';
import { newId } from '../database/ids';
import { AppError } from '../errors/app-error';
import { ListQueryDto, Page, toPage } from '../pagination/list-query.dto';
import { SubjectDto } from './dto/create-provenance.dto';
import { CreateRecordDto } from './dto/create-record.dto';
import { MODEL_CARDS, RecordKind } from './record-kinds';
import { RecordView, presentRecord } from './record.presenter';
import { RecordsRepository } from './records.repository';

/** Create, list, read and delete the records of one Enterprise capability, in the caller's organization. */
@Injectable()
export class RecordsService {
  constructor(
    private readonly repository: RecordsRepository,
    private readonly datasets: DatasetsRepository,
    private readonly audit: AuditService,
    private readonly revocations: KeyRevocations,
  ) {}

  async create(principal: Principal, kind: RecordKind, dto: CreateRecordDto, subject?: SubjectDto): Promise<RecordView> {
    const organizationId = principal.organization.id;
    if (subject) await this.assertSubjectExists(organizationId, subject);
    const record = await this.repository.transaction(async (tx) => {
      const created = await this.repository.create(tx, {
        id: newId(kind.idPrefix),
        organizationId,
        kind: kind.kind,
        name: dto.name,
        data: dto.data as Prisma.InputJsonObject,
        subjectType: subject?.type ?? null,
        subjectId: subject?.id ?? null,
      });
      await this.audit.record(tx, {
        organizationId,
        type: `${kind.kind}.created`,
        actor: actorOf(principal),
        target: { type: kind.kind, id: created.id },
        data: { name: created.name },
      });
      await this.revocations.assertLive(principal);
      return created;
    });
    return presentRecord(record);
  }

  async list(principal: Principal, kind: RecordKind, query: ListQueryDto): Promise<Page<RecordView>> {
    const rows = await this.repository.list(principal.organization.id, kind.kind, query);
    return toPage(rows, query.limit ?? 20, presentRecord);
  }

  async get(principal: Principal, kind: RecordKind, id: string): Promise<RecordView> {
    const record = kind.ids.test(id) ? await this.repository.find(principal.organization.id, kind.kind, id) : null;
    if (!record) throw AppError.notFound(kind.label);
    return presentRecord(record);
  }

  async delete(principal: Principal, kind: RecordKind, id: string): Promise<void> {
    const organizationId = principal.organization.id;
    await this.repository.transaction(async (tx) => {
      const deleted = kind.ids.test(id) && (await this.repository.delete(tx, organizationId, kind.kind, id));
      if (!deleted) throw AppError.notFound(kind.label);
      await this.audit.record(tx, { organizationId, type: `${kind.kind}.deleted`, actor: actorOf(principal), target: { type: kind.kind, id } });
      await this.revocations.assertLive(principal);
    });
  }

  /** A subject of another organization is as unknown as one that does not exist. */
  private async assertSubjectExists(organizationId: string, subject: SubjectDto): Promise<void> {
    const found =
      subject.type === 'dataset'
        ? await this.datasets.find(organizationId, subject.id)
        : await this.repository.find(organizationId, MODEL_CARDS.kind, subject.id);
    if (!found) throw AppError.notFound(subject.type === 'dataset' ? 'Dataset' : 'Model card');
  }
}
