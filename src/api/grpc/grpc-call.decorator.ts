import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/** The grpc-js call object of an RPC (Nest passes data, metadata, call): to send response metadata or stream. */
export const GrpcCall = createParamDecorator((_data: unknown, context: ExecutionContext): unknown => context.getArgByIndex(2));
