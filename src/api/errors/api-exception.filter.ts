import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { throwError, type Observable } from 'rxjs';
import { contextOfCall } from '../../observability/request-context';
import { errorBody, toApiError } from './api-error';
import { grpcStatusOf } from './grpc-error';

/**
 * The one exception filter of both transports: every error leaves as
 * `{"error": {code, message, details}}` (REST) or the matching gRPC status. Unexpected
 * errors are logged in full and answered as INTERNAL without internals. Nest also routes
 * here what fails before a route handler runs (body size, content type, JSON), with
 * Fastify's errors turned into HttpExceptions of their status.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('errors');

  catch(exception: unknown, host: ArgumentsHost): Observable<never> | void {
    const error = toApiError(exception);
    if (!error.expected) this.logger.error({ msg: 'unexpected error', err: exception, ...contextOfCall(host) });

    if (host.getType() === 'rpc') return throwError(() => grpcStatusOf(error));

    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.end();
      return;
    }
    void reply.status(error.status.http).send(errorBody(error));
  }
}
