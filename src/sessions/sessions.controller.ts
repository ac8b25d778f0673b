import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { ApiErrorResponses } from '../errors/api-error-responses.decorator';
import { AppError } from '../errors/app-error';
import { SessionView, presentSession } from './session.presenter';

@ApiTags('Session')
@ApiBearerAuth()
@ApiErrorResponses()
@Controller('v1/session')
export class SessionsController {
  /** Describes the caller's dashboard session; an API key has none to describe. */
  @Get()
  @ApiOkResponse({ type: SessionView, description: 'The member behind a Stytch session JWT (API keys get 403 FORBIDDEN)' })
  get(@CurrentPrincipal() principal: Principal): SessionView {
    if (principal.kind !== 'member') {
      throw new AppError('FORBIDDEN', 'GET /v1/session needs a dashboard session (a Stytch session JWT), not an API key.');
    }
    return presentSession(principal);
  }
}
