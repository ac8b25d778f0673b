import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ErrorCode } from '../errors/app-error';
import { Readiness } from '../health/readiness';

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

  constructor(readiness: Readiness) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'lv_dependency_up',
      help: '1 when the dependency answered its readiness probe (at most a second old), else 0',
      labelNames: ['dependency'] as const,
      registers: [this.registry],
      async collect() {
        const state = await readiness.state();
        this.set({ dependency: 'database' }, state.database === 'ok' ? 1 : 0);
        this.set({ dependency: 'store' }, state.store === 'ok' ? 1 : 0);
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
