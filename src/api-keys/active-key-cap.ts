import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import type { Prisma } from '../generated/prisma/client';
import { ApiKeysRepository } from './api-keys.repository';

/**
 * The bound on an organization's active keys (MAX_ACTIVE_KEYS_PER_ORGANIZATION). Each check locks
 * the organization's row for the rest of the caller's transaction, so concurrent creates — on any
 * instance — are counted one after the other and exactly the maximum succeed.
 */
@Injectable()
export class ActiveKeyCap {
  private readonly max: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly repository: ApiKeysRepository,
  ) {
    this.max = config.maxActiveKeysPerOrganization;
  }

  /** A new key: refused when the organization already holds the maximum. */
  async assertRoomForNewKey(tx: Prisma.TransactionClient, organizationId: string): Promise<void> {
    await this.repository.lockOrganization(tx, organizationId);
    const active = await this.repository.countActive(organizationId, new Date(), tx);
    if (active < this.max) return;
    throw new AppError(
      'CONFLICT',
      `This organization has ${active} active API keys; the maximum is ${this.max}. Revoke keys it no longer uses, then try again.`,
    );
  }

  /**
   * Rotation replaces a key, so it is allowed at the maximum: during a grace period the old and
   * the new key both work, one over. A second grace period while over the maximum is refused, or
   * rotations would pile up working keys; a rotation without grace leaves the count as it was.
   */
  async assertRoomForRotation(tx: Prisma.TransactionClient, organizationId: string, graceSeconds: number): Promise<void> {
    await this.repository.lockOrganization(tx, organizationId);
    if (graceSeconds === 0) return;
    const active = await this.repository.countActive(organizationId, new Date(), tx);
    if (active <= this.max) return;
    throw new AppError(
      'CONFLICT',
      `This organization has ${active} active API keys, over the maximum of ${this.max} while an earlier rotation's grace period runs. ` +
        'Rotate with grace_period_seconds 0, revoke keys it no longer uses, or wait for that grace period to end.',
    );
  }
}
