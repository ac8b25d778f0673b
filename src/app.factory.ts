import cors from '@fastify/cors';
import { NestFactory } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import pino from 'pino';
import { registerInFlightRevocationCheck } from './api-keys/in-flight-revocation.hook';
import { KeyRevocations } from './api-keys/key-revocations';
import { AppModule } from './app.module';
import { AuthenticationService } from './auth/authentication.service';
import { registerRequestAdmission } from './auth/request-admission.hook';
import { AppConfig } from './config/app-config';
import { RouteTable } from './errors/route-table';
import { createValidationPipe } from './errors/validation';
import { clientErrorHandler, createHttpServer, frameworkErrors, registerBodyRefusals } from './http-hardening';
import { registerMetricsHook } from './metrics/metrics.hook';
import { MetricsService } from './metrics/metrics.service';
import { setupOpenApi } from './openapi';
import { AdmissionService } from './rate-limiting/admission.service';
import { registerRequestContextHooks } from './request-context/request-context.hooks';
import { PinoNestLogger } from './request-context/pino-nest-logger';
import { RequestLog } from './request-context/request-log';
import { generateRequestId } from './request-context/request-id';
import { GITHUB_REPORT_ROUTE } from './secret-scanning/secret-scanning.controller';
import { SecretScanningService } from './secret-scanning/secret-scanning.service';
import { readSignatureHeaders } from './secret-scanning/github-signature';
import { registerSecurityHeaders } from './security-headers';
import { registerJsonBodyParser } from './validation/json-body-parser';

export const BODY_LIMIT_BYTES = 1024 * 1024;

const EXPOSED_HEADERS = [
  'X-Request-Id', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'RateLimit', 'RateLimit-Policy', 'Retry-After',
];

/** Builds the whole application, ready to listen; `main.ts` and the end-to-end tests share it. */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    genReqId: generateRequestId,
    bodyLimit: BODY_LIMIT_BYTES,
    // Fastify accepts a hop count too; the adapter's option type omits it.
    trustProxy: config.trustProxy as boolean | string,
    // Slow clients cannot hold a connection open forever (applied in createHttpServer: Fastify
    // sets them only on servers it creates). Idle keep-alive connections close after 5 s, Node's
    // default, which this service has always run with (Fastify's own default is 72 s).
    requestTimeout: 30_000,
    connectionTimeout: 30_000,
    keepAliveTimeout: 5_000,
    // `/v1/datasets/` is `/v1/datasets`; the route table answers the same way.
    routerOptions: { ignoreTrailingSlash: true },
    clientErrorHandler,
    frameworkErrors,
    serverFactory: createHttpServer,
    // While closing, a request on an open keep-alive connection is served (with Connection: close)
    // instead of Fastify's own 503, which has neither our envelope nor an X-Request-Id.
    return503OnClosing: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(config), adapter, {
    // From the first line on, Nest logs as the service does (JSON, no stack traces), so a start-up
    // failure is one line here and one plain sentence from main.ts, not a console stack dump.
    logger: new PinoNestLogger(pino({ level: config.logLevel })),
    // Throw start-up errors to the caller (main.ts reports them) instead of exiting inside Nest.
    abortOnError: false,
    // Fastify's own JSON parser only; Nest's adds urlencoded bodies, which this API does not take.
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  // Hooks run in the order added: request id and context, security headers (and Cache-Control), CORS, then admission.
  registerRequestContextHooks(fastify);
  registerSecurityHeaders(fastify);
  // The dashboard calls with a session JWT in Authorization (no cookies) and reads our headers.
  await app.register(cors, {
    origin: config.dashboardOrigin,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    // An OPTIONS request that is not a preflight is routed like any other (no bare 400).
    strictPreflight: false,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  });
  // GitHub's reports authenticate by a signature over the body: without its headers, refused unread.
  const scanning = app.get(SecretScanningService);
  const githubReport = async (request: FastifyRequest) => {
    if (!readSignatureHeaders(request.headers)) await scanning.refuseUnsigned(request.ip, request.id);
  };
  registerRequestAdmission(fastify, app.get(AuthenticationService), app.get(AdmissionService), new Map([[GITHUB_REPORT_ROUTE, githubReport]]));
  registerInFlightRevocationCheck(fastify, app.get(KeyRevocations));
  // Compressed bodies are refused; a body refused unread is drained before its 413 (src/http-hardening.ts).
  registerBodyRefusals(fastify);
  registerMetricsHook(fastify, app.get(MetricsService));
  app.get(RequestLog).register(fastify);
  // JSON only: any other body (text/plain included, which Fastify parses by default) is 415.
  fastify.removeContentTypeParser('text/plain');
  // Every body's shape is bounded before it is parsed (validation/body-shape.ts).
  registerJsonBodyParser(fastify, [GITHUB_REPORT_ROUTE]);
  app.get(RouteTable).attach(fastify);
  app.useGlobalPipes(createValidationPipe());
  setupOpenApi(app);
  await app.init();
  return app;
}
