import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { ApiErrorResponses } from '../errors/api-error-responses.decorator';
import { OrganizationView, presentOrganization } from './organization.presenter';

@ApiTags('Organization')
@ApiBearerAuth()
@ApiErrorResponses()
@Controller('v1/organization')
export class OrganizationsController {
  /** Served from the principal: the record is cached, the tier is the one admission just read. */
  @Get()
  @ApiOkResponse({ type: OrganizationView })
  get(@CurrentPrincipal() principal: Principal): OrganizationView {
    return presentOrganization(principal.organization, principal.tier!);
  }
}
