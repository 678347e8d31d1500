import { applyDecorators } from '@nestjs/common';
import { ApiExtension, ApiExtraModels, ApiHeader, ApiOperation, ApiResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { ErrorBodyDto } from '../dto/responses/error.responses';
import { ERROR_STATUS, type ApiErrorCode } from '../errors/error-table';
import { CORRELATION_HEADER } from '../operations/headers';
import { errorCodesOf, type Operation } from '../operations/operation';

const CORRELATION_RESPONSE_HEADER = {
  [CORRELATION_HEADER]: { description: "the request's correlation id (the caller's, else the request's commandId)", schema: { type: 'string' } },
};

/** The OpenAPI description of an operation's REST route, all from its table row. */
export function operationDocs(op: Operation): MethodDecorator {
  const codes = errorCodesOf(op);
  const writesWithKey = op.execution.kind === 'write' && op.execution.idempotencyKey;
  return applyDecorators(
    ApiTags(op.tag),
    ApiOperation({ operationId: op.id, summary: op.summary, description: describe(op, codes) }),
    ApiExtension('x-error-codes', codes),
    ApiHeader({ name: CORRELATION_HEADER, required: false, description: 'correlates this request with its events and logs; echoed in the answer' }),
    ...(writesWithKey
      ? [ApiHeader({ name: 'Idempotency-Key', required: false, description: 'at most 255 characters: a repeat within 24 h answers the first answer and appends nothing' })]
      : []),
    ApiResponse({
      status: op.rest.status,
      description: op.response ? 'success' : 'success, no body',
      ...(op.response ? { type: op.response } : {}),
      headers: CORRELATION_RESPONSE_HEADER,
    }),
    ...errorResponses(codes),
  );
}

function describe(op: Operation, codes: ApiErrorCode[]): string {
  const errors = `Error codes: ${codes.map((c) => `\`${c}\``).join(', ')} (docs/API.md "Errors").`;
  return op.description ? `${op.description}\n\n${errors}` : errors;
}

/** One response per HTTP status the operation's codes map to: the shared envelope, its code narrowed to those codes. */
function errorResponses(codes: ApiErrorCode[]): MethodDecorator[] {
  const byStatus = new Map<number, ApiErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_STATUS[code].http, [...(byStatus.get(ERROR_STATUS[code].http) ?? []), code]);
  // Any request may be refused as too large (VALIDATION_FAILED with 413).
  byStatus.set(413, ['VALIDATION_FAILED']);
  return [
    ApiExtraModels(ErrorBodyDto),
    ...[...byStatus].map(([status, statusCodes]) =>
      ApiResponse({
        status,
        description: statusCodes.join(', '),
        headers: CORRELATION_RESPONSE_HEADER,
        schema: {
          allOf: [
            { $ref: getSchemaPath(ErrorBodyDto) },
            { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string', enum: statusCodes } } } } },
          ],
        },
      }),
    ),
  ];
}
