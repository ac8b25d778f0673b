import { Inject, Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { PrismaService } from '../database/prisma.service';
import { AdmissionStore } from '../store/admission-store';

export type DependencyState = 'ok' | 'unavailable';

export interface ReadinessState {
  database: DependencyState;
  store: DependencyState;
}

/** How long a probe's result answers /readyz and /metrics: a burst of scrapes costs one probe. */
const FRESH_MS = 1_000;
const PROBE_TIMEOUT_MS = 2_000;

/**
 * Whether PostgreSQL and the admission store answer, shared by /readyz and the
 * `lv_dependency_up` gauge. Both are unauthenticated, so each call may not cost a query and a
 * PING: the dependencies are probed at most once per second, and callers arriving while a probe
 * runs share it. A dependency that goes down is reported within a second (plus the probe).
 */
@Injectable()
export class Readiness {
  private latest?: Promise<ReadinessState>;
  private freshUntil = 0;

  constructor(
    private readonly prisma: PrismaService,
    @Inject(AdmissionStore) private readonly store: AdmissionStore,
  ) {}

  state(): Promise<ReadinessState> {
    if (this.latest === undefined || performance.now() >= this.freshUntil) {
      this.freshUntil = Number.POSITIVE_INFINITY;
      this.latest = this.probe().then((state) => {
        this.freshUntil = performance.now() + FRESH_MS;
        return state;
      });
    }
    return this.latest;
  }

  private async probe(): Promise<ReadinessState> {
    const [database, store] = await Promise.all([check(() => this.prisma.$queryRaw`SELECT 1`), check(() => this.store.ping())]);
    return { database, store };
  }
}

async function check(probe: () => Promise<unknown>): Promise<DependencyState> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), PROBE_TIMEOUT_MS);
  });
  try {
    await Promise.race([probe(), timeout]);
    return 'ok';
  } catch {
    return 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}
