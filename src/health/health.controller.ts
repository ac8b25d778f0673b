import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { AppError } from '../errors/app-error';
import { ErrorEnvelopeDto } from '../errors/error-envelope';
import { Readiness } from './readiness';

@ApiTags('Health')
@Controller()
export class HealthController {
  constructor(private readonly readiness: Readiness) {}

  /** The process is up and answering. */
  @Get('healthz')
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  health() {
    return { status: 'ok' };
  }

  /** PostgreSQL and the admission store both answer (as of at most a second ago): this instance can serve traffic. */
  @Get('readyz')
  @ApiOkResponse({ schema: { example: { status: 'ready', checks: { database: 'ok', store: 'ok' } } } })
  @ApiServiceUnavailableResponse({ type: ErrorEnvelopeDto })
  async ready() {
    const { database, store } = await this.readiness.state();
    if (database !== 'ok' || store !== 'ok') {
      const down = [database !== 'ok' && 'database', store !== 'ok' && 'store'].filter(Boolean).join(' and ');
      throw new AppError('SERVICE_UNAVAILABLE', `Not ready: the ${down} is unavailable.`);
    }
    return { status: 'ready', checks: { database, store } };
  }
}
