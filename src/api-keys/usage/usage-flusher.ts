import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { describeFailure } from '../../errors/to-app-error';
import { AdmissionStore, UsageBatch } from '../../store/admission-store';
import { UsageSpikeDetector, keyHoursOf } from './usage-spike.detector';
import { UsageRepository } from './usage.repository';

/**
 * Moves usage counted by the admission script into PostgreSQL in batches, so no request writes
 * to the database. Every instance flushes; the store hands each count to exactly one of them.
 * Then the key-hours the flush wrote are judged for traffic that looks like a stolen key's.
 */
@Injectable()
export class UsageFlusher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(UsageFlusher.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly store: AdmissionStore,
    private readonly usage: UsageRepository,
    private readonly spikes: UsageSpikeDetector,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flushQuietly(), this.config.usageFlushIntervalMs).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flushQuietly();
  }

  /** One flush; concurrent calls share it. */
  flush(): Promise<void> {
    this.running ??= this.drainAndAnalyse().finally(() => (this.running = undefined));
    return this.running;
  }

  /**
   * What was written is analysed even when a later part of the drain failed. A failed analysis
   * is done again when the hour's next traffic is flushed (flags are raised once all the same).
   */
  private async drainAndAnalyse(): Promise<void> {
    const written: UsageBatch[] = [];
    let failure: unknown;
    try {
      await this.store.drainUsage(async (batches) => {
        await this.usage.add(batches);
        written.push(...batches);
      });
    } catch (error) {
      failure = error;
    }
    await this.spikes.analyse(keyHoursOf(written));
    if (failure) throw failure;
  }

  private async flushQuietly(): Promise<void> {
    try {
      await this.flush();
    } catch (error) {
      // The batch stays in the store and goes with the next flush. Types and codes only: a
      // driver's message may quote the query.
      this.logger.warn({ cause: describeFailure(error) }, 'Usage flush postponed');
    }
  }
}
