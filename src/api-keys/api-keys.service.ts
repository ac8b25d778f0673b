import { Injectable, Logger } from '@nestjs/common';
import type { ApiKey, Prisma } from '../generated/prisma/client';
import { Actor, Principal, actorOf } from '../auth/principal';
import { assertMayManageKeys } from '../auth/roles';
import { AuditService } from '../audit/audit.service';
import { idPattern, newId } from '../database/ids';
import { AppError } from '../errors/app-error';
import { ListQueryDto, Page, toPage } from '../pagination/list-query.dto';
import { AdmissionStore } from '../store/admission-store';
import { ApiKeyView, CreatedApiKeyView, presentApiKey } from './api-key.presenter';
import { ApiKeysRepository } from './api-keys.repository';
import { CreateApiKeyDto } from './dto/create-api-key.dto';
import { KeyRevocations } from './key-revocations';
import { generateKey } from './key-format';

const KEY_ID = idPattern('key');

export interface NewKeyInput {
  organizationId: string;
  name: string;
  environment?: CreateApiKeyDto['environment'];
  expiresAt?: Date | null;
  rateLimit?: { max: number; windowSeconds: number } | null;
}

/** Creating, reading, revoking and rotating keys — always within the caller's organization. */
@Injectable()
export class ApiKeysService {
  private readonly logger = new Logger(ApiKeysService.name);

  constructor(
    private readonly repository: ApiKeysRepository,
    private readonly audit: AuditService,
    private readonly store: AdmissionStore,
    private readonly revocations: KeyRevocations,
  ) {}

  async create(principal: Principal, dto: CreateApiKeyDto): Promise<CreatedApiKeyView> {
    assertMayManageKeys(principal);
    return this.issue(
      {
        organizationId: principal.organization.id,
        name: dto.name,
        environment: dto.environment,
        expiresAt: dto.expires_at ?? null,
        rateLimit: dto.rate_limit ? { max: dto.rate_limit.max, windowSeconds: dto.rate_limit.window_seconds } : null,
      },
      actorOf(principal),
      principal,
    );
  }

  /** Also used by the admin command line (actor `system`, no principal). */
  async issue(input: NewKeyInput, actor: Actor, principal?: Principal): Promise<CreatedApiKeyView> {
    const { key, secret } = await this.repository.transaction(async (tx) => {
      const created = await this.insertKey(tx, input, actor);
      await this.audit.record(tx, {
        organizationId: input.organizationId,
        type: 'api_key.created',
        actor,
        target: { type: 'api_key', id: created.key.id },
        data: { name: created.key.name, environment: created.key.environment },
      });
      if (principal) await this.revocations.assertLive(principal);
      return created;
    });
    await this.store.putKey(key.id, { revokeAtMs: null, expiresAtMs: key.expiresAt?.getTime() ?? null });
    return { ...presentApiKey(key), key: secret };
  }

  async list(principal: Principal, query: ListQueryDto): Promise<Page<ApiKeyView>> {
    const rows = await this.repository.list(principal.organization.id, query);
    return toPage(rows, query.limit ?? 20, presentApiKey);
  }

  async get(principal: Principal, id: string): Promise<ApiKeyView> {
    return presentApiKey(await this.find(principal.organization.id, id));
  }

  /** Revokes now; revoking a revoked key changes nothing and answers the same. */
  async revoke(principal: Principal, id: string): Promise<ApiKeyView> {
    assertMayManageKeys(principal);
    return presentApiKey(await this.revokeKey(principal.organization.id, id, actorOf(principal), principal));
  }

  /** For operators (admin command line): the key is found by id alone. */
  async revokeAnywhere(id: string, actor: Actor): Promise<ApiKey> {
    const key = KEY_ID.test(id) ? await this.repository.findById(id) : null;
    if (!key) throw AppError.notFound('API key');
    return this.revokeKey(key.organizationId, id, actor);
  }

  /** For operators (admin command line): every key of an organization, revoked ones when asked. */
  listAnywhere(organizationId: string, includeRevoked: boolean): Promise<ApiKey[]> {
    return this.repository.listAll(organizationId, { includeRevoked, now: new Date() });
  }

  /** Keys of the organization that authenticate now (neither revoked nor expired). */
  countActive(organizationId: string): Promise<number> {
    return this.repository.countActive(organizationId, new Date());
  }

  // TEMPORARY minimal version for the admin command line (`key set-limit`): the rate-limit work
  // replaces it with its own (same signature), which also tells running servers.
  async setRateLimit(keyId: string, limit: { max: number; windowSeconds: number } | null, actor: Actor): Promise<ApiKey> {
    const key = KEY_ID.test(keyId) ? await this.repository.findById(keyId) : null;
    if (!key) throw AppError.notFound('API key');
    return this.repository.transaction(async (tx) => {
      const updated = await this.repository.update(tx, keyId, { rateLimitMax: limit?.max ?? null, rateLimitWindowSeconds: limit?.windowSeconds ?? null });
      const view = (max: number | null, windowSeconds: number | null) => (max !== null && windowSeconds !== null ? { max, window_seconds: windowSeconds } : null);
      await this.audit.record(tx, {
        organizationId: key.organizationId,
        type: 'api_key.rate_limit_changed',
        actor,
        target: { type: 'api_key', id: keyId },
        data: { from: view(key.rateLimitMax, key.rateLimitWindowSeconds), to: view(updated.rateLimitMax, updated.rateLimitWindowSeconds) },
      });
      return updated;
    });
  }

  async revokeKey(organizationId: string, id: string, actor: Actor, principal?: Principal): Promise<ApiKey> {
    const now = new Date();
    const key = await this.repository.transaction(async (tx) => {
      const current = await this.findIn(tx, organizationId, id);
      if (current.revokedAt && current.revokedAt <= now) return current;
      const revoked = await this.repository.update(tx, id, { revokedAt: now });
      await this.audit.record(tx, { organizationId, type: 'api_key.revoked', actor, target: { type: 'api_key', id } });
      if (principal && principal.kind === 'api_key' && principal.key.id !== id) await this.revocations.assertLive(principal);
      // The store before the commit: if it cannot take the revocation, nothing is revoked (503),
      // rather than PostgreSQL saying "revoked" while the store keeps admitting the key.
      await this.store.putKey(id, { revokeAtMs: now.getTime(), expiresAtMs: revoked.expiresAt?.getTime() ?? null });
      return revoked;
    });
    await this.announceRevocation(key, principal);
    return key;
  }

  /** A new key with the same settings; the old one stops now or after the grace period. */
  async rotate(principal: Principal, id: string, graceSeconds: number): Promise<CreatedApiKeyView> {
    assertMayManageKeys(principal);
    const organizationId = principal.organization.id;
    const actor = actorOf(principal);
    const revokeAt = new Date(Date.now() + graceSeconds * 1000);
    const { old, created } = await this.repository.transaction(async (tx) => {
      const current = await this.findIn(tx, organizationId, id);
      if (current.revokedAt && current.revokedAt <= new Date()) {
        throw new AppError('CONFLICT', 'This API key is revoked; a revoked key cannot be rotated. Create a new key instead.');
      }
      // the new key would inherit the expiry and be born dead
      if (current.expiresAt && current.expiresAt <= new Date()) {
        throw new AppError('CONFLICT', 'This API key has expired; an expired key cannot be rotated. Create a new key instead.');
      }
      const fresh = await this.insertKey(
        tx,
        {
          organizationId,
          name: current.name,
          environment: current.environment,
          expiresAt: current.expiresAt,
          rateLimit:
            current.rateLimitMax !== null && current.rateLimitWindowSeconds !== null
              ? { max: current.rateLimitMax, windowSeconds: current.rateLimitWindowSeconds }
              : null,
        },
        actor,
      );
      const stopAt = current.revokedAt && current.revokedAt < revokeAt ? current.revokedAt : revokeAt;
      const updated = await this.repository.update(tx, id, { revokedAt: stopAt, replacedById: fresh.key.id });
      await this.audit.record(tx, {
        organizationId,
        type: 'api_key.rotated',
        actor,
        target: { type: 'api_key', id },
        data: { new_key_id: fresh.key.id, grace_period_seconds: graceSeconds, revoked_at: stopAt.toISOString() },
      });
      if (principal.kind === 'api_key' && principal.key.id !== id) await this.revocations.assertLive(principal);
      // As in revokeKey: the store learns when the old key stops before PostgreSQL commits it.
      await this.store.putKey(id, { revokeAtMs: stopAt.getTime(), expiresAtMs: updated.expiresAt?.getTime() ?? null });
      return { old: updated, created: fresh };
    });
    await this.store.putKey(created.key.id, { revokeAtMs: null, expiresAtMs: created.key.expiresAt?.getTime() ?? null });
    await this.announceRevocation(old, principal);
    return { ...presentApiKey(created.key), key: created.secret };
  }

  async find(organizationId: string, id: string): Promise<ApiKey> {
    return this.findIn(undefined, organizationId, id);
  }

  private async findIn(tx: Prisma.TransactionClient | undefined, organizationId: string, id: string): Promise<ApiKey> {
    // A malformed id cannot exist: answered like any unknown id, without a query.
    const key = KEY_ID.test(id) ? await this.repository.findInOrganization(organizationId, id, tx) : null;
    if (!key) throw AppError.notFound('API key');
    return key;
  }

  private async insertKey(tx: Prisma.TransactionClient, input: NewKeyInput, actor: Actor): Promise<{ key: ApiKey; secret: string }> {
    const { secret, hash, start } = generateKey();
    const key = await this.repository.create(tx, {
      id: newId('key'),
      organizationId: input.organizationId,
      name: input.name,
      environment: input.environment ?? 'production',
      start,
      keyHash: hash,
      createdByType: actor.type,
      createdById: actor.id,
      expiresAt: input.expiresAt ?? null,
      rateLimitMax: input.rateLimit?.max ?? null,
      rateLimitWindowSeconds: input.rateLimit?.windowSeconds ?? null,
    });
    return { key, secret };
  }

  /** The store already has it (written before commit); now the event, for in-flight requests elsewhere. */
  private async announceRevocation(key: ApiKey, principal?: Principal): Promise<void> {
    const revokeAtMs = key.revokedAt!.getTime();
    if (principal?.kind === 'api_key' && principal.key.id === key.id) this.revocations.noteRevokedByItself(principal);
    this.revocations.note(key.id, revokeAtMs);
    // Best effort: the revocation is already in force through the store; the event only hurries it.
    await this.store.publish({ type: 'key.revoked', keyId: key.id, revokeAtMs }).catch((error: Error) => {
      this.logger.warn({ request_id: principal?.requestId }, `Revocation of ${key.id} not announced: ${error.message}`);
    });
  }
}
