import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { PrismaService } from '../database/prisma.service';
import { AppError } from '../errors/app-error';
import { ErrorEnvelopeDto } from '../errors/error-envelope';
import { AdmissionStore } from '../store/admission-store';

const CHECK_TIMEOUT_MS = 2000;

@ApiTags('Health')
@Controller()
export class HealthController {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(AdmissionStore) private readonly store: AdmissionStore,
  ) {}

  /** The process is up and answering. */
  @Get('healthz')
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  health() {
    return { status: 'ok' };
  }

  /** PostgreSQL and the admission store both answer: this instance can serve traffic. */
  @Get('readyz')
  @ApiOkResponse({ schema: { example: { status: 'ready', checks: { database: 'ok', store: 'ok' } } } })
  @ApiServiceUnavailableResponse({ type: ErrorEnvelopeDto })
  async ready() {
    const [database, store] = await Promise.all([
      check(() => this.prisma.$queryRaw`SELECT 1`),
      check(() => this.store.ping()),
    ]);
    if (database !== 'ok' || store !== 'ok') {
      const down = [database !== 'ok' && 'database', store !== 'ok' && 'store'].filter(Boolean).join(' and ');
      throw new AppError('SERVICE_UNAVAILABLE', `Not ready: the ${down} is unavailable.`);
    }
    return { status: 'ready', checks: { database, store } };
  }
}

async function check(probe: () => Promise<unknown>): Promise<'ok' | 'unavailable'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS);
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
