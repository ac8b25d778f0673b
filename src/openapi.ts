import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { finishDocument } from './api-docs/finish-document';
import { API_TAGS } from './api-docs/tags';
import { APP_CONFIG, AppConfig } from './config/app-config';
import { ErrorEnvelopeDto } from './errors/error-envelope';

export const OPENAPI_JSON_PATH = '/docs/openapi.json';

/** The service's OpenAPI document: what `/docs/openapi.json` serves and `npm run openapi:export` writes. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = app.get<AppConfig>(APP_CONFIG);
  const builder = new DocumentBuilder()
    .setTitle('Lucitra Validate API')
    .setDescription(
      'Authenticate with `Authorization: Bearer luci_…` (API key) or a Stytch B2B session JWT (dashboard). ' +
        'Every response carries `X-Request-Id`; every error is `{ error: { code, message, request_id, … } }`. ' +
        'Every authenticated `/v1` answer carries the rate-limit headers; over the limit, `429` with `Retry-After`.',
    )
    .setVersion('1')
    .addServer(config.publicUrl)
    // Not `bearerFormat: JWT`: most callers send an API key, which is not a JWT.
    .addSecurity('bearer', { type: 'http', scheme: 'bearer', description: 'API key (`luci_…`) or Stytch session JWT (dashboard)' });
  for (const tag of Object.values(API_TAGS)) builder.addTag(tag.name, tag.description);
  const settings = builder.build();
  // DocumentBuilder's setLicense always writes a url; this license has none to point to.
  settings.info.license = { name: 'Proprietary' };
  return finishDocument(SwaggerModule.createDocument(app, settings, { extraModels: [ErrorEnvelopeDto] }));
}

/** `GET /docs` (Swagger UI) and `GET /docs/openapi.json`, both public. */
export function setupOpenApi(app: NestFastifyApplication): void {
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), {
    jsonDocumentUrl: OPENAPI_JSON_PATH.slice(1),
    yamlDocumentUrl: undefined,
  });
}
