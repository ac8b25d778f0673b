import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { API_TAGS } from '../api-docs/tags';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { ApiErrorResponses } from '../errors/api-error-responses.decorator';
import { OrganizationView, presentOrganization } from './organization.presenter';

@ApiTags(API_TAGS.organization.name)
@ApiBearerAuth()
@ApiErrorResponses()
@Controller('v1/organization')
export class OrganizationsController {
  /** Served from the principal: the record is cached, the tier is the one admission just read. */
  @Get()
  @ApiOperation({ summary: 'Get your organization', description: 'The organization the credential acts for, with its current tier.' })
  @ApiOkResponse({ type: OrganizationView })
  get(@CurrentPrincipal() principal: Principal): OrganizationView {
    return presentOrganization(principal.organization, principal.tier!);
  }
}
