import { applyDecorators } from '@nestjs/common';
import { ApiExtension, ApiExtraModels, ApiHeader, ApiOperation, ApiResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { ErrorBodyDto } from '../dto/responses/error.responses';
import { OWN_STATUS_REFUSALS } from '../errors/api-error';
import { ERROR_STATUS, type ApiErrorCode } from '../errors/error-table';
import { HEADERS, type ApiHeader as Header } from '../operations/headers';
import { errorCodesOf, headersOf, type Operation } from '../operations/operation';

/** The OpenAPI description of an operation's REST route, all from its table row. */
export function operationDocs(op: Operation): MethodDecorator {
  const codes = errorCodesOf(op);
  const headers = headersOf(op);
  const answered = responseHeaders(headers.writes);
  return applyDecorators(
    ApiTags(op.tag),
    ApiOperation({ operationId: op.id, summary: op.summary, description: describe(op, codes) }),
    ApiExtension('x-error-codes', codes),
    ...headers.reads.map((header) => ApiHeader({ name: header.name, required: false, description: header.description })),
    successResponse(op, answered),
    // An error answers the correlation id too, and none of the success's own headers.
    ...errorResponses(codes, responseHeaders([HEADERS.correlationId])),
  );
}

/** The success: the row's body (JSON), none, or a stream of events as Server-Sent Events. */
function successResponse(op: Operation, headers: ResponseHeaders): MethodDecorator {
  if (op.execution.kind === 'stream') {
    // Each event's `data:` is one item (`response`); OpenAPI 3.0 has no item schema of its own, so the stream's schema names the item's, as SSE-aware generators read it.
    const item = op.response ? { $ref: getSchemaPath(op.response) } : { type: 'string' as const };
    return applyDecorators(
      ...(op.response ? [ApiExtraModels(op.response)] : []),
      ApiResponse({
        status: op.rest.status,
        description: 'a stream of Server-Sent Events: `id:` the cursor to resume after the event, `event:` its type, `data:` the item as JSON; `:` comment lines keep it alive',
        headers,
        content: { 'text/event-stream': { schema: item } },
      }),
    );
  }
  return ApiResponse({
    status: op.rest.status,
    description: op.response ? 'success' : 'success, no body',
    ...(op.response ? { type: op.response } : {}),
    headers,
  });
}

type ResponseHeaders = Record<string, { description: string; schema: { type: 'string' } }>;

function responseHeaders(headers: Header[]): ResponseHeaders {
  return Object.fromEntries(headers.map((header) => [header.name, { description: header.description, schema: { type: 'string' } }]));
}

function describe(op: Operation, codes: ApiErrorCode[]): string {
  const errors = `Error codes: ${codes.map((c) => `\`${c}\``).join(', ')} (docs/API.md "Errors").`;
  return op.description ? `${op.description}\n\n${errors}` : errors;
}

/** One response per HTTP status the operation's codes map to: the shared envelope, its code narrowed to those codes. */
function errorResponses(codes: ApiErrorCode[], headers: ResponseHeaders): MethodDecorator[] {
  const byStatus = new Map<number, ApiErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_STATUS[code].http, [...(byStatus.get(ERROR_STATUS[code].http) ?? []), code]);
  // Any request may be refused for its size or pace, before routing.
  for (const status of Object.keys(OWN_STATUS_REFUSALS)) byStatus.set(Number(status), ['VALIDATION_FAILED']);
  return [
    ApiExtraModels(ErrorBodyDto),
    ...[...byStatus].map(([status, statusCodes]) =>
      ApiResponse({
        status,
        description: statusCodes.join(', '),
        headers,
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
