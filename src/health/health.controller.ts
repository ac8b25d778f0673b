import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { API_TAGS } from '../api-docs/tags';
import { ApiErrorResponse } from '../errors/api-error-responses.decorator';
import { AppError } from '../errors/app-error';
import { HealthView, ReadinessView } from './health.views';
import { Readiness } from './readiness';

@ApiTags(API_TAGS.health.name)
@Controller()
export class HealthController {
  constructor(private readonly readiness: Readiness) {}

  /** The process is up and answering. */
  @Get('healthz')
  @ApiOperation({ summary: 'Liveness', description: 'The process is up and answering. Checks nothing else.' })
  @ApiOkResponse({ type: HealthView })
  health(): HealthView {
    return { status: 'ok' };
  }

  /** PostgreSQL and the admission store both answer (as of at most a second ago): this instance can serve traffic. */
  @Get('readyz')
  @ApiOperation({
    summary: 'Readiness',
    description: 'PostgreSQL and the rate-limit store both answer (as of at most a second ago): this instance can serve traffic.',
  })
  @ApiOkResponse({ type: ReadinessView })
  @ApiErrorResponse(503, 'SERVICE_UNAVAILABLE: the database or the rate-limit store is unavailable; the message says which.')
  async ready(): Promise<ReadinessView> {
    const { database, store } = await this.readiness.state();
    if (database !== 'ok' || store !== 'ok') {
      const down = [database !== 'ok' && 'database', store !== 'ok' && 'store'].filter(Boolean).join(' and ');
      throw new AppError('SERVICE_UNAVAILABLE', `Not ready: the ${down} is unavailable.`);
    }
    return { status: 'ready', checks: { database, store } };
  }
}
