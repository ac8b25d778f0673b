import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ErrorEnvelopeDto } from './errors/error-envelope';

export const OPENAPI_JSON_PATH = '/docs/openapi.json';

/** The service's OpenAPI document: what `/docs/openapi.json` serves and `npm run openapi:export` writes. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Lucitra Validate API')
    .setDescription(
      'Authenticate with `Authorization: Bearer luci_…` (API key) or a Stytch B2B session JWT (dashboard). ' +
        'Every response carries `X-Request-Id`; every error is `{ error: { code, message, request_id, … } }`.',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  return SwaggerModule.createDocument(app, config, { extraModels: [ErrorEnvelopeDto] });
}

/** `GET /docs` (Swagger UI) and `GET /docs/openapi.json`, both public. */
export function setupOpenApi(app: NestFastifyApplication): void {
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), {
    jsonDocumentUrl: OPENAPI_JSON_PATH.slice(1),
    yamlDocumentUrl: undefined,
  });
}
