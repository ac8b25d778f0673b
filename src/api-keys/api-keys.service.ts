import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ApiKey, Prisma } from '../generated/prisma/client';
import { Actor, Principal, actorOf } from '../auth/principal';
import { assertMayManageKeys } from '../auth/roles';
import { AuditService } from '../audit/audit.service';
import { APP_CONFIG, AppConfig, RateLimitPolicy } from '../config/app-config';
import { idPattern, newId } from '../database/ids';
import { AppError } from '../errors/app-error';
import { ListQueryDto, Page, toPage } from '../pagination/list-query.dto';
import { AdmissionStore } from '../store/admission-store';
import { ActiveKeyCap } from './active-key-cap';
import { ApiKeyView, CreatedApiKeyView, presentApiKey } from './api-key.presenter';
import { ApiKeysRepository } from './api-keys.repository';
import { CreateApiKeyDto } from './dto/create-api-key.dto';
import { KeyRevocations } from './key-revocations';
import { generateKey } from './key-format';
import { assertMayRotate, expiryProblem, operatorLimitProblems, rateLimitProblem } from './key-policy';
import { keyStateOf } from './key-state';

const KEY_ID = idPattern('key');

export interface NewKeyInput {
  organizationId: string;
  name: string;
  environment?: CreateApiKeyDto['environment'];
  expiresAt?: Date | null;
  rateLimit?: RateLimitPolicy | null;
}

/** Creating, reading, revoking and rotating keys — always within the caller's organization. */
@Injectable()
export class ApiKeysService {
  private readonly logger = new Logger(ApiKeysService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: ApiKeysRepository,
    private readonly audit: AuditService,
    private readonly store: AdmissionStore,
    private readonly revocations: KeyRevocations,
    private readonly cap: ActiveKeyCap,
  ) {}

  /** Through the API: CONTRACT §5's bounds on a key's own limit and a key-made key's lifetime apply. */
  async create(principal: Principal, dto: CreateApiKeyDto): Promise<CreatedApiKeyView> {
    assertMayManageKeys(principal);
    const expiresAt = dto.expires_at ?? null;
    const rateLimit = dto.rate_limit ? { max: dto.rate_limit.max, windowSeconds: dto.rate_limit.window_seconds } : null;
    const problems = [rateLimit && rateLimitProblem(rateLimit, this.config.rateLimit), expiryProblem(principal, expiresAt)];
    const details = problems.filter((problem) => problem !== null);
    if (details.length > 0) throw AppError.validation('Request validation failed.', details);
    const input = { organizationId: principal.organization.id, name: dto.name, environment: dto.environment, expiresAt, rateLimit };
    return this.issue(input, actorOf(principal), principal);
  }

  /** Also used by the admin command line (actor `system`, no principal): any limit, the same cap. */
  async issue(input: NewKeyInput, actor: Actor, principal?: Principal): Promise<CreatedApiKeyView> {
    const { key, secret } = await this.repository.transaction(async (tx) => {
      await this.cap.assertRoomForNewKey(tx, input.organizationId);
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
    await this.store.putKey(key.id, keyStateOf(key));
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

  /**
   * For operators (admin command line): sets a key's own limit — looser than the platform's too —
   * or, with null, returns it to the default. Running instances apply it from the key's next
   * request: admission reads the limit from the key's state in the shared store (the one store
   * call it makes anyway), written here before commit as a revocation is. No cache to drop, no
   * event that an instance could miss, no cost per request.
   */
  async setRateLimit(keyId: string, limit: { max: number; windowSeconds: number } | null, actor: Actor): Promise<ApiKey> {
    const problems = limit ? operatorLimitProblems(limit) : [];
    if (problems.length > 0) throw AppError.validation('The rate limit is not valid.', problems);
    const found = KEY_ID.test(keyId) ? await this.repository.findById(keyId) : null;
    if (!found) throw AppError.notFound('API key');
    return this.repository.transaction(async (tx) => {
      // the update locks the row and returns its newest version: a revocation committed meanwhile is seen
      const updated = await this.repository.update(tx, keyId, {
        rateLimitMax: limit?.max ?? null,
        rateLimitWindowSeconds: limit?.windowSeconds ?? null,
      });
      if (updated.revokedAt && updated.revokedAt <= new Date()) {
        throw new AppError('CONFLICT', 'This API key is revoked; its rate limit cannot be changed.');
      }
      await this.audit.record(tx, {
        organizationId: updated.organizationId,
        type: 'api_key.rate_limit_changed',
        actor,
        target: { type: 'api_key', id: keyId },
        data: { max: limit?.max ?? null, window_seconds: limit?.windowSeconds ?? null },
      });
      await this.store.putKey(keyId, keyStateOf(updated));
      return updated;
    });
  }

  /**
   * `alongside` runs in the revocation's transaction (told whether this call revoked the key), so
   * a caller's own record of why — a leak report — commits exactly when the revocation does.
   */
  async revokeKey(
    organizationId: string,
    id: string,
    actor: Actor,
    principal?: Principal,
    alongside?: (tx: Prisma.TransactionClient, revokedNow: boolean) => Promise<void>,
  ): Promise<ApiKey> {
    const now = new Date();
    const key = await this.repository.transaction(async (tx) => {
      const current = await this.findIn(tx, organizationId, id);
      if (current.revokedAt && current.revokedAt <= now) {
        await alongside?.(tx, false);
        // Revoked already: the store is told again all the same, so a revocation made where the
        // store was out of reach (the admin tool without REDIS_URL) is completed by repeating it.
        await this.store.putKey(id, keyStateOf(current));
        return current;
      }
      const revoked = await this.repository.update(tx, id, { revokedAt: now });
      await this.audit.record(tx, { organizationId, type: 'api_key.revoked', actor, target: { type: 'api_key', id } });
      await alongside?.(tx, true);
      if (principal && principal.kind === 'api_key' && principal.key.id !== id) await this.revocations.assertLive(principal);
      // The store before the commit: if it cannot take the revocation, nothing is revoked (503),
      // rather than PostgreSQL saying "revoked" while the store keeps admitting the key.
      await this.store.putKey(id, keyStateOf(revoked));
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
    if (!KEY_ID.test(id)) throw AppError.notFound('API key');
    const { old, created } = await this.repository.transaction(async (tx) => {
      // the organization's keys locked first: a concurrent rotation or create is counted after this one
      await this.cap.assertRoomForRotation(tx, organizationId, graceSeconds);
      const current = await this.findIn(tx, organizationId, id);
      if (current.revokedAt && current.revokedAt <= new Date()) {
        throw new AppError('CONFLICT', 'This API key is revoked; a revoked key cannot be rotated. Create a new key instead.');
      }
      // the new key would inherit the expiry and be born dead
      if (current.expiresAt && current.expiresAt <= new Date()) {
        throw new AppError('CONFLICT', 'This API key has expired; an expired key cannot be rotated. Create a new key instead.');
      }
      assertMayRotate(principal, current);
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
      await this.store.putKey(id, keyStateOf(updated));
      return { old: updated, created: fresh };
    });
    await this.store.putKey(created.key.id, keyStateOf(created.key));
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
