import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ErrorEnvelopeDto } from './errors/error-envelope';

/** `GET /docs` (Swagger UI) and `GET /docs/openapi.json`, both public. */
export function setupOpenApi(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Lucitra Validate API')
    .setDescription(
      'Authenticate with `Authorization: Bearer luci_…` (API key) or a Stytch B2B session JWT (dashboard). ' +
        'Every response carries `X-Request-Id`; every error is `{ error: { code, message, request_id, … } }`.',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ErrorEnvelopeDto] });
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json', yamlDocumentUrl: undefined });
}
