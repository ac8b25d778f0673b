import { Body, Controller, Get, Patch } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { API_TAGS } from '../api-docs/tags';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { ManagesKeys } from '../auth/key-manager.guard';
import { actorOf, type Principal } from '../auth/principal';
import { ApiErrorResponses, ApiForbiddenError } from '../errors/api-error-responses.decorator';
import { UpdateOrganizationDto } from './dto/create-organization.dto';
import { OrganizationView, presentOrganization } from './organization.presenter';
import { OrganizationsService } from './organizations.service';

@ApiTags(API_TAGS.organization.name)
@ApiBearerAuth()
@ApiErrorResponses()
@Controller('v1/organization')
export class OrganizationsController {
  constructor(private readonly organizations: OrganizationsService) {}

  /** Served from the principal: the record is cached, the tier is the one admission just read. */
  @Get()
  @ApiOperation({ summary: 'Get your organization', description: 'The organization the credential acts for, with its current tier.' })
  @ApiOkResponse({ type: OrganizationView })
  get(@CurrentPrincipal() principal: Principal): OrganizationView {
    return presentOrganization(principal.organization, principal.tier!);
  }

  /** Who may manage keys may choose what happens to a leaked one. */
  @Patch()
  @ManagesKeys()
  @ApiOperation({
    summary: 'Change your organization\'s settings',
    description: '`leak_response`: what happens to a key of yours that GitHub secret scanning finds in public — `revoke` it at once ' +
      '(the default) or `notify` only. Either way an `api_key.leaked` audit event is recorded. A change is audited ' +
      '(`organization.leak_response_changed`).',
  })
  @ApiForbiddenError('a dashboard member without a key-manager role')
  @ApiOkResponse({ type: OrganizationView, description: 'The organization with the new settings' })
  async update(@CurrentPrincipal() principal: Principal, @Body() dto: UpdateOrganizationDto): Promise<OrganizationView> {
    const organization = await this.organizations.setLeakResponse(principal.organization.id, dto.leak_response, actorOf(principal));
    return presentOrganization(organization, principal.tier!);
  }
}
