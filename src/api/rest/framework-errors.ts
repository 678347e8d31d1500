import { HttpException } from '@nestjs/common';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, toApiError } from '../errors/api-error';

/**
 * Fastify's `frameworkErrors`: what its router refuses before any route or hook runs (a path
 * that is not valid percent-encoding, a path parameter over the length limit) gets the API's
 * error body and codes too, not Fastify's own.
 */
export function frameworkErrors(error: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const apiError = toApiError(new HttpException(error.message, error.statusCode ?? 500));
  void reply.status(apiError.status.http).send(errorBody(apiError));
}
