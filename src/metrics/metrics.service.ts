import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { PrismaService } from '../database/prisma.service';
import type { ErrorCode } from '../errors/app-error';
import { AdmissionStore } from '../store/admission-store';

const AUTH_FAILURES: ReadonlySet<ErrorCode> = new Set(['UNAUTHORIZED', 'INVALID_API_KEY', 'API_KEY_REVOKED', 'API_KEY_EXPIRED', 'INVALID_SESSION']);

/**
 * Prometheus metrics (one registry per application, so tests can run several): traffic by
 * route and status, latency, rate-limited and failed authentications by reason — the
 * "unexpected spikes" the seed asks customers to watch for — and dependency health.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'lv_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'lv_http_request_duration_seconds',
    help: 'Time to answer, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly rateLimited = new Counter({
    name: 'lv_rate_limited_total',
    help: 'Requests refused with 429 RATE_LIMITED',
    registers: [this.registry],
  });
  private readonly authFailures = new Counter({
    name: 'lv_auth_failures_total',
    help: 'Failed authentications, by error code',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor(prisma: PrismaService, store: AdmissionStore) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'lv_dependency_up',
      help: '1 when the dependency answers a ping at scrape time, else 0',
      labelNames: ['dependency'] as const,
      registers: [this.registry],
      async collect() {
        const up = async (probe: () => Promise<unknown>) => ((await probe().then(() => true, () => false)) ? 1 : 0);
        this.set({ dependency: 'database' }, await up(() => prisma.$queryRaw`SELECT 1`));
        this.set({ dependency: 'store' }, await up(() => store.ping()));
      },
    });
  }

  observeResponse(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status });
    this.latency.observe({ method, route }, seconds);
  }

  observeError(code: ErrorCode): void {
    if (code === 'RATE_LIMITED') this.rateLimited.inc();
    else if (AUTH_FAILURES.has(code)) this.authFailures.inc({ reason: code });
  }
}
