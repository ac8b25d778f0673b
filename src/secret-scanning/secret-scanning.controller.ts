import { Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { API_TAGS } from '../api-docs/tags';
import { ApiErrorResponse } from '../errors/api-error-responses.decorator';
import { REPORT_LIMITS } from './github-report';
import { FoundTokenDto } from './dto/found-token.dto';
import { TokenLabelView } from './dto/token-label.view';
import { readSignatureHeaders } from './github-signature';
import { SecretScanningService } from './secret-scanning.service';

export const GITHUB_REPORT_ROUTE = '/v1/secret-scanning/github';

/**
 * GitHub's secret-scanning partner endpoint. Its authentication is GitHub's signature over the
 * body, not a bearer credential: the admission hook leaves this one route to it (app.factory.ts).
 */
@ApiTags(API_TAGS.secretScanning.name)
@Controller('v1/secret-scanning')
export class SecretScanningController {
  constructor(private readonly scanning: SecretScanningService) {}

  @Post('github')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Report leaked keys (GitHub secret scanning)',
    description:
      'Called by GitHub when it finds tokens matching our key pattern in public. Authenticated by GitHub\'s ECDSA P-256 ' +
      'signature over the exact body, checked against the keys GitHub publishes. A live key of ours is revoked at once on ' +
      'every instance (or, if its organization chose `leak_response: notify`, left live), and an `api_key.leaked` audit ' +
      'event records where it was found. Sending a report again changes nothing more and answers the same labels.',
  })
  @ApiHeader({ name: 'Github-Public-Key-Identifier', required: true, description: 'The identifier of the GitHub key that signed the body' })
  @ApiHeader({ name: 'Github-Public-Key-Signature', required: true, description: 'Base64 of the DER ECDSA P-256 / SHA-256 signature of the body' })
  @ApiBody({ type: [FoundTokenDto], description: `The tokens found, at most ${REPORT_LIMITS.tokens}` })
  @ApiOkResponse({ type: [TokenLabelView], description: 'One entry per reported token, in the order reported' })
  @ApiErrorResponse(400, 'VALIDATION_FAILED: the body is not a JSON array of `{token, type, url, source}` strings within their lengths; `details` says where.')
  @ApiErrorResponse(401, 'UNAUTHORIZED: a signature header is missing or malformed, names a key GitHub does not publish, or does not verify over the body.')
  @ApiErrorResponse(413, `PAYLOAD_TOO_LARGE: the body is over 1 MiB, or holds more than ${REPORT_LIMITS.tokens} tokens.`)
  @ApiErrorResponse(429, 'RATE_LIMITED: too many failed authentications from this address; wait `retry_after` seconds.')
  @ApiErrorResponse(500, 'INTERNAL_ERROR: a fault on our side; quote the `request_id` when reporting it.')
  @ApiErrorResponse(503, "SERVICE_UNAVAILABLE: GitHub's signing keys, the database or the store are unavailable; retry later.")
  report(@Req() request: FastifyRequest): Promise<TokenLabelView[]> {
    return this.scanning.handleGithubReport({
      ip: request.ip,
      requestId: request.id,
      signature: readSignatureHeaders(request.headers),
      rawBody: request.rawBody,
      body: request.body,
    });
  }
}
