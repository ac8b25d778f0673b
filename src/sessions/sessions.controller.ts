import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { API_TAGS } from '../api-docs/tags';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { ApiErrorResponses, ApiForbiddenError } from '../errors/api-error-responses.decorator';
import { AppError } from '../errors/app-error';
import { SessionView, presentSession } from './session.presenter';

@ApiTags(API_TAGS.session.name)
@ApiBearerAuth()
@ApiErrorResponses()
@Controller('v1/session')
export class SessionsController {
  /** Describes the caller's dashboard session; an API key has none to describe. */
  @Get()
  @ApiOperation({ summary: 'Get your session', description: 'The dashboard member behind a Stytch session JWT, with their roles. Dashboard sessions only.' })
  @ApiOkResponse({ type: SessionView, description: 'The member behind the session JWT' })
  @ApiForbiddenError('the credential is an API key, which has no session')
  get(@CurrentPrincipal() principal: Principal): SessionView {
    if (principal.kind !== 'member') {
      throw new AppError('FORBIDDEN', 'GET /v1/session needs a dashboard session (a Stytch session JWT), not an API key.');
    }
    return presentSession(principal);
  }
}
