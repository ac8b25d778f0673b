import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { ApiKey } from '../generated/prisma/client';
import { ApiKeyAuthenticator } from '../auth/authenticators';
import { ApiKeyPrincipal, KeyRecord } from '../auth/principal';
import { AppError } from '../errors/app-error';
import { OrganizationsService } from '../organizations/organizations.service';
import { AdmissionStore } from '../store/admission-store';
import { keySubject } from '../store/key-layout';
import { ApiKeysRepository } from './api-keys.repository';
import { KeyRevocations } from './key-revocations';
import { hashKey, isWellFormedKey } from './key-format';
import { keyStateOf } from './key-state';

/**
 * `luci_…` credentials → principal, from memory in steady state: the key record is cached by
 * the SHA-256 of the secret. The cache decides nothing that can change — revocation, expiry,
 * tier and the key's own rate limit are read from the shared store by admission on every request.
 */
@Injectable()
export class CachedApiKeyAuthenticator extends ApiKeyAuthenticator {
  private readonly byHash = new LRUCache<string, KeyRecord>({ max: 50_000, ttl: 10 * 60_000 });

  constructor(
    private readonly repository: ApiKeysRepository,
    private readonly organizations: OrganizationsService,
    private readonly revocations: KeyRevocations,
    private readonly store: AdmissionStore,
  ) {
    super();
  }

  async authenticate(credential: string, requestId: string): Promise<ApiKeyPrincipal> {
    // Shape and checksum first: a mistyped or invented key never reaches the database.
    if (!isWellFormedKey(credential)) throw invalidKey();
    const hash = hashKey(credential);
    let key = this.byHash.get(hash);
    if (!key) {
      const row = await this.repository.findByHash(hash);
      if (!row) throw invalidKey();
      key = toRecord(row);
      this.byHash.set(hash, key);
    }
    // Known-dead keys are refused without a store call; live ones are confirmed by admission.
    const now = Date.now();
    if (this.revocations.isRevoked(key.id, now) || (key.revokeAtMs !== null && key.revokeAtMs <= now)) {
      throw new AppError('API_KEY_REVOKED', 'This API key has been revoked.');
    }
    if (key.expiresAtMs !== null && key.expiresAtMs <= now) {
      throw new AppError('API_KEY_EXPIRED', 'This API key has expired.');
    }
    return { kind: 'api_key', requestId, organization: await this.organizations.record(key.organizationId), key };
  }

  async seedState(principal: ApiKeyPrincipal): Promise<void> {
    const row = await this.repository.findById(principal.key.id);
    if (!row) return;
    await this.store.seedKey(row.id, keyStateOf(row));
    await this.organizations.seedTier(row.organizationId, keySubject(row.id));
  }
}

function toRecord(row: ApiKey): KeyRecord {
  return {
    id: row.id,
    organizationId: row.organizationId,
    expiresAtMs: row.expiresAt?.getTime() ?? null,
    revokeAtMs: row.revokedAt?.getTime() ?? null,
  };
}

function invalidKey(): AppError {
  return new AppError('INVALID_API_KEY', 'The API key is not valid. Check that it was copied whole.');
}
