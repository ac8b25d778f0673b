import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { AdmissionStore, KeyHour, UsageBatch } from '../../store/admission-store';
import { UsageSpikeRepository } from './usage-spike.repository';
import { baseline, hourOf, raisedFlags } from './usage-spikes';

const SYSTEM = { type: 'system' as const, id: 'usage-spike-detector' };

/**
 * Judges the key-hours a usage flush touched, off the request path: reads their distinct IPs
 * from the store, gives each new key-hour its baselines (from the hours before it, so once), and
 * raises the flags they earn — each once per key, hour and kind, with its audit event, however
 * many instances and flushes look at the same hour.
 */
@Injectable()
export class UsageSpikeDetector {
  private readonly logger = new Logger(UsageSpikeDetector.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly store: AdmissionStore,
    private readonly spikes: UsageSpikeRepository,
    private readonly audit: AuditService,
  ) {}

  async analyse(touched: KeyHour[]): Promise<void> {
    if (touched.length === 0) return;
    const ips = await this.store.distinctIps(touched);
    const counted = touched.map((hour, index) => ({ ...hour, distinctIps: ips[index] }));
    const missing = await this.spikes.updateDistinctIps(counted);
    if (missing.length > 0) {
      const ipsOf = new Map(missing.map((hour) => [`${hour.keyId}|${hour.hourMs}`, hour.distinctIps]));
      const history = await this.spikes.history(missing);
      await this.spikes.createHours(history.map((past) => ({
        keyId: past.keyId,
        hourMs: past.hourMs,
        distinctIps: ipsOf.get(`${past.keyId}|${past.hourMs}`) ?? 0,
        baselineRequests: baseline(past.busyHours, past.requestsSinceMs, past.hourMs),
        baselineIps: baseline(past.ipHours, past.ipsSinceMs, past.hourMs),
      })));
    }
    const figures = await this.spikes.figures(touched);
    const flags = figures.flatMap((hour) => raisedFlags(hour, this.config.usageSpike).map((flag) => ({ ...hour, ...flag })));
    if (flags.length === 0) return;
    const raised = await this.spikes.transaction(async (tx) => {
      const written = await this.spikes.raise(tx, flags);
      for (const flag of written) {
        await this.audit.record(tx, {
          organizationId: flag.organizationId,
          type: 'api_key.usage_spike',
          actor: SYSTEM,
          target: { type: 'api_key', id: flag.keyId },
          data: { kind: flag.kind, observed: flag.observed, baseline: flag.baseline, hour: new Date(flag.hourMs).toISOString() },
        });
      }
      return written;
    });
    // For operators watching the logs; once per flag, like the audit event.
    for (const { keyId, organizationId, kind, observed, baseline: usual, hourMs } of raised) {
      this.logger.warn({ keyId, organizationId, kind, observed, baseline: usual, hour: new Date(hourMs).toISOString() }, 'API key usage looks stolen');
    }
  }
}

/** The key-hours a flush's batches counted requests in, each once. */
export function keyHoursOf(batches: UsageBatch[]): KeyHour[] {
  const hours = new Map<string, KeyHour>();
  for (const batch of batches) {
    for (const count of batch.counts) {
      const hourMs = hourOf(count.minuteMs);
      hours.set(`${count.keyId}|${hourMs}`, { keyId: count.keyId, hourMs });
    }
  }
  return [...hours.values()];
}
