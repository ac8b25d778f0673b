import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { API_TAGS } from '../api-docs/tags';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { ApiErrorResponses } from '../errors/api-error-responses.decorator';
import { ApiPageResponse } from '../pagination/api-page-response.decorator';
import { toPage } from '../pagination/list-query.dto';
import { EnterpriseOnly } from '../tiers/enterprise';
import { AuditEventView, presentAuditEvent } from './audit-event.presenter';
import { AuditEventsRepository } from './audit-events.repository';
import { AuditQueryDto } from './dto/audit-query.dto';

@ApiTags(API_TAGS.audit.name)
@ApiBearerAuth()
@ApiErrorResponses()
@EnterpriseOnly()
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly events: AuditEventsRepository) {}

  /** Newest first; `?type=` and `?since=` narrow it. */
  @Get('events')
  @ApiOperation({ summary: 'List audit events', description: 'Changes to keys, tiers and datasets, newest first; `type` and `since` narrow the list.' })
  @ApiPageResponse(AuditEventView)
  async list(@CurrentPrincipal() principal: Principal, @Query() query: AuditQueryDto) {
    return toPage(await this.events.list(principal.organization.id, query), query.limit ?? 20, presentAuditEvent);
  }
}
