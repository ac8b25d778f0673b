import { Injectable } from '@nestjs/common';
import type { Principal } from '../../auth/principal';
import { AppError } from '../../errors/app-error';
import { ApiKeysService } from '../api-keys.service';
import { Granularity, UsageQueryDto } from '../dto/usage-query.dto';
import { UsageRepository } from './usage.repository';
import type { UsageView } from './usage.view';

const DAY_MS = 86_400_000;
const DEFAULT_SPAN_MS: Record<Granularity, number> = { minute: DAY_MS, hour: DAY_MS, day: 30 * DAY_MS };

@Injectable()
export class UsageService {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly usage: UsageRepository,
  ) {}

  async forKey(principal: Principal, keyId: string, query: UsageQueryDto): Promise<UsageView> {
    const key = await this.keys.find(principal.organization.id, keyId);
    const granularity = query.granularity ?? 'hour';
    const to = query.to ?? new Date();
    const from = query.from ?? new Date(to.getTime() - DEFAULT_SPAN_MS[granularity]);
    if (from >= to) throw AppError.validation('from must be before to.', [{ field: 'from', message: 'from must be before to' }]);
    const buckets = await this.usage.buckets(principal.organization.id, key.id, granularity, from, to);
    return {
      data: buckets.map((bucket) => ({
        timestamp: bucket.timestamp.toISOString(),
        requests: bucket.requests,
        rate_limited: bucket.rate_limited,
      })),
    };
  }
}
