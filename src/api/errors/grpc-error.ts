import { Metadata, type StatusObject } from '@grpc/grpc-js';
import type { ApiError } from './api-error';

/**
 * An API error as grpc-js sends it: the table's gRPC status, the message as status
 * details, the stable code in trailing metadata `error-code` and, when there are any,
 * the details as JSON in `error-details` (proto/ioasid/v1/ioasid.proto "Conventions").
 */
export function grpcStatusOf(error: ApiError): Omit<StatusObject, 'metadata'> & { message: string; metadata: Metadata } {
  const metadata = new Metadata();
  metadata.set('error-code', error.code);
  if (Object.keys(error.details).length > 0) metadata.set('error-details', asciiJson(error.details));
  return { code: error.status.grpc, details: error.message, message: error.message, metadata };
}

/**
 * grpc-js refuses metadata values that are not printable ASCII (it would throw inside the
 * exception filter and the call would never be answered); \uXXXX escapes keep the same JSON.
 */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
