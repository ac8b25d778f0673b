import { Injectable } from '@nestjs/common';
import type { Principal } from '../../auth/principal';
import { AppError } from '../../errors/app-error';
import { ApiKeysService } from '../api-keys.service';
import { Granularity, UsageQueryDto } from '../dto/usage-query.dto';
import { HourDetail, UsageSpikeRepository } from './usage-spike.repository';
import type { FlagKind } from './usage-spikes';
import { UsageRepository } from './usage.repository';
import type { UsageFlagFigures, UsageView } from './usage.view';

/** The API's names of the flag kinds. */
const FLAG_NAMES: Record<FlagKind, 'usage_spike' | 'many_ips'> = { requests: 'usage_spike', ips: 'many_ips' };

const DAY_MS = 86_400_000;
const DEFAULT_SPAN_MS: Record<Granularity, number> = { minute: DAY_MS, hour: DAY_MS, day: 30 * DAY_MS };

@Injectable()
export class UsageService {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly usage: UsageRepository,
    private readonly spikes: UsageSpikeRepository,
  ) {}

  async forKey(principal: Principal, keyId: string, query: UsageQueryDto): Promise<UsageView> {
    const key = await this.keys.find(principal.organization.id, keyId);
    const granularity = query.granularity ?? 'hour';
    const to = query.to ?? new Date();
    const from = query.from ?? new Date(to.getTime() - DEFAULT_SPAN_MS[granularity]);
    if (from >= to) throw AppError.validation('from must be before to.', [{ field: 'from', message: 'from must be before to' }]);
    const organizationId = principal.organization.id;
    const buckets = await this.usage.buckets(organizationId, key.id, granularity, from, to);
    // hour buckets carry their hour's distinct IPs and flags; other granularities the summary only
    const hours = granularity === 'hour' ? new Map((await this.spikes.hours(organizationId, key.id, from, to)).map((hour) => [hour.hour.getTime(), hour])) : undefined;
    const flags = await this.spikes.flags(organizationId, key.id, from, to);
    return {
      data: buckets.map((bucket) => ({
        timestamp: bucket.timestamp.toISOString(),
        requests: bucket.requests,
        rate_limited: bucket.rate_limited,
        ...(hours && hourFields(hours.get(bucket.timestamp.getTime()))),
      })),
      flags: flags.map((flag) => ({ hour: flag.hour.toISOString(), kind: FLAG_NAMES[flag.kind], ...figures(flag) })),
    };
  }
}

function hourFields(hour: HourDetail | undefined) {
  const flag = (kind: FlagKind) => {
    const raised = hour?.flags.find((candidate) => candidate.kind === kind);
    return raised ? figures(raised) : null;
  };
  // an hour not analysed yet (its flush is seconds away) has counted no IP so far
  return { distinct_ips: hour?.distinctIps ?? 0, usage_spike: flag('requests'), many_ips: flag('ips') };
}

function figures(flag: { observed: number; baseline: number; raisedAt: Date }): UsageFlagFigures {
  return { observed: flag.observed, baseline: flag.baseline, raised_at: flag.raisedAt.toISOString() };
}
