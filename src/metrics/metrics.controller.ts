import { Controller, Get, Header, Inject, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { refuseRepeatedAuthorization } from '../auth/bearer-credential';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { MetricsService } from './metrics.service';

/** `GET /metrics` in Prometheus text format; behind `Bearer METRICS_TOKEN` when one is set. */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(@Req() request: FastifyRequest): Promise<string> {
    if (this.config.metricsToken) {
      refuseRepeatedAuthorization(request.raw.rawHeaders);
      if (!matches(request.headers.authorization, `Bearer ${this.config.metricsToken}`)) {
        throw new AppError('UNAUTHORIZED', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>.');
      }
    }
    return this.metrics.registry.metrics();
  }
}

/** Constant-time comparison (of digests, so lengths do not leak either). */
function matches(given: string | undefined, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given ?? ''), digest(expected));
}
