import { Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { Organization } from '../generated/prisma/client';
import type { LeakResponse, Tier } from '../generated/prisma/enums';
import { Actor, OrganizationRecord } from '../auth/principal';
import { AuditService } from '../audit/audit.service';
import { newId } from '../database/ids';
import { AppError } from '../errors/app-error';
import { AdmissionStore } from '../store/admission-store';
import { OrganizationsRepository } from './organizations.repository';

/**
 * Organizations and their tiers. The hot path reads organization records from an in-process
 * cache; the tier is never cached here — it lives in the shared admission store, written on every
 * change, so a change holds from the next request on every instance. The record's one setting
 * (`leak_response`, only shown from here) changes seldom: a change drops the record on every
 * instance through the store's events, and the next request reads it again.
 */
@Injectable()
export class OrganizationsService {
  private readonly logger = new Logger(OrganizationsService.name);
  private readonly records = new LRUCache<string, OrganizationRecord>({ max: 10_000 });
  /** Stytch organization id → our organization id (which never changes). */
  private readonly byStytchId = new LRUCache<string, string>({ max: 10_000 });

  constructor(
    private readonly repository: OrganizationsRepository,
    private readonly audit: AuditService,
    private readonly store: AdmissionStore,
  ) {
    // A hint only: the worst a forged event does is one database read of the record.
    store.subscribe((event) => {
      if (event.type === 'organization.changed') this.records.delete(event.organizationId);
    });
  }

  /** The organization's record, from memory after the first read. */
  async record(id: string): Promise<OrganizationRecord> {
    const cached = this.records.get(id);
    if (cached) return cached;
    const organization = await this.repository.findById(id);
    if (!organization) throw AppError.notFound('Organization');
    return this.remember(organization);
  }

  /**
   * Puts the organization's tier into the admission store if it is not there (after a restart or
   * expiry): the copy that requests of `subject` read.
   */
  async seedTier(id: string, subject: string): Promise<void> {
    const organization = await this.repository.findById(id);
    if (organization) await this.store.seedOrganization(id, organization.tier, subject);
  }

  async find(id: string): Promise<Organization | null> {
    return this.repository.findById(id);
  }

  list(): Promise<Organization[]> {
    return this.repository.list();
  }

  async create(input: { name: string; tier?: Tier; stytchOrganizationId?: string }, actor: Actor): Promise<Organization> {
    const organization = await this.repository.transaction(async (tx) => {
      const created = await this.repository.create(tx, {
        id: newId('org'),
        name: input.name,
        tier: input.tier ?? 'free',
        stytchOrganizationId: input.stytchOrganizationId ?? null,
      });
      await this.audit.record(tx, {
        organizationId: created.id,
        type: 'organization.created',
        actor,
        target: { type: 'organization', id: created.id },
        data: { name: created.name, tier: created.tier },
      });
      return created;
    });
    await this.store.putOrganization(organization.id, organization.tier);
    return organization;
  }

  /**
   * The organization a Stytch organization maps to, created (tier free) on first sight. Two
   * instances seeing it at once both try; the unique column lets one win and the other reads it.
   * `requestId`: the request whose session brought it (its audit event names it).
   */
  async forStytchOrganization(stytchOrganizationId: string, slug: string, requestId: string): Promise<OrganizationRecord> {
    const cachedId = this.byStytchId.get(stytchOrganizationId);
    if (cachedId) return this.record(cachedId);
    let organization = await this.repository.findByStytchId(stytchOrganizationId);
    if (!organization) {
      try {
        organization = await this.create({ name: slug, stytchOrganizationId }, { type: 'system', id: 'stytch', requestId });
      } catch (error) {
        if ((error as { code?: string }).code !== 'P2002') throw error;
        organization = await this.repository.findByStytchId(stytchOrganizationId);
        if (!organization) throw error;
      }
    }
    const record = this.remember(organization);
    this.byStytchId.set(stytchOrganizationId, organization.id);
    return record;
  }

  async setTier(id: string, tier: Tier, actor: Actor): Promise<Organization> {
    const organization = await this.repository.transaction(async (tx) => {
      const before = await tx.organization.findUnique({ where: { id } });
      if (!before) throw AppError.notFound('Organization');
      const updated = await this.repository.setTier(tx, id, tier);
      if (before.tier !== tier) {
        await this.audit.record(tx, {
          organizationId: id,
          type: 'organization.tier_changed',
          actor,
          target: { type: 'organization', id },
          data: { from: before.tier, to: tier },
        });
      }
      return updated;
    });
    await this.store.putOrganization(id, tier);
    return organization;
  }

  /**
   * What happens to the organization's keys found in public (secret scanning reads it from the
   * database on each report). Audited when it changes; every instance shows it from its next request.
   */
  async setLeakResponse(id: string, leakResponse: LeakResponse, actor: Actor): Promise<Organization> {
    const organization = await this.repository.transaction(async (tx) => {
      // the update locks the row: concurrent changes are audited in the order they apply
      const before = await this.repository.leakResponseForUpdate(tx, id);
      if (before === null) throw AppError.notFound('Organization');
      const updated = await this.repository.setLeakResponse(tx, id, leakResponse);
      if (before !== leakResponse) {
        await this.audit.record(tx, {
          organizationId: id,
          type: 'organization.leak_response_changed',
          actor,
          target: { type: 'organization', id },
          data: { from: before, to: leakResponse },
        });
      }
      return updated;
    });
    this.remember(organization);
    await this.store.publish({ type: 'organization.changed', organizationId: id }).catch((error: Error) => {
      this.logger.warn({ request_id: actor.requestId }, `Change of ${id} not announced: ${error.message}`);
    });
    return organization;
  }

  private remember(organization: Organization): OrganizationRecord {
    const record: OrganizationRecord = {
      id: organization.id,
      name: organization.name,
      stytchOrganizationId: organization.stytchOrganizationId,
      leakResponse: organization.leakResponse,
      createdAt: organization.createdAt,
    };
    this.records.set(organization.id, record);
    return record;
  }
}
