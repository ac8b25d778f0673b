import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MetricsService } from '../metrics/metrics.service';
import { AppError } from './app-error';
import { RouteTable } from './route-table';
import { describeFailure, toAppError } from './to-app-error';

const MAX_PATH_IN_MESSAGE = 200;

/** The one place an error becomes a response body (CONTRACT §4). */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(
    private readonly routes: RouteTable,
    private readonly metrics: MetricsService,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const error = toAppError(exception, () => this.routeNotFound(request));
    this.metrics.observeError(error.code);

    // A refusal is told by the request's own log line (its code); a failure gets a line with its
    // cause — types and codes, never a stack or a driver's message (which may quote the query).
    if (error.status >= 500) this.logger.error({ request_id: request.id, code: error.code, cause: describeFailure(exception) }, 'Request failed');
    if (request.context) request.context.errorCode = error.code;
    if (reply.sent) return;

    // Set again for requests that skipped the onRequest hooks (Fastify's 404 for `OPTIONS *`).
    reply.header('x-request-id', request.id);
    for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
    if (error.extra.retry_after !== undefined) reply.header('retry-after', String(error.extra.retry_after));
    void reply
      .status(error.status)
      .type('application/json; charset=utf-8')
      .send({ error: { code: error.code, message: error.message, ...error.extra, request_id: request.id } });
  }

  private routeNotFound(request: FastifyRequest): AppError {
    const path = request.url.split('?', 1)[0];
    const shown = path.length > MAX_PATH_IN_MESSAGE ? `${path.slice(0, MAX_PATH_IN_MESSAGE)}…` : path;
    const allowed = this.routes.allowedMethods(path);
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      return new AppError('METHOD_NOT_ALLOWED', `Method ${request.method} is not allowed on ${shown}. Allowed: ${allowed.join(', ')}.`, {}, { allow: allowed.join(', ') });
    }
    return new AppError('NOT_FOUND', `No route matches ${request.method} ${shown}.`);
  }
}
