import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

// Where the ioasid.v1 proto is, and the names it declares.

export const IOASID_PACKAGE = 'ioasid.v1';
/** The service as @GrpcMethod names it. */
export const IOASID_SERVICE = 'IoasidService';
/** The service as health checks and reflection name it. */
export const IOASID_SERVICE_FULL_NAME = `${IOASID_PACKAGE}.${IOASID_SERVICE}`;

/** The proto of the public gRPC contract, relative to the package root. */
const PROTO_FILE = join('proto', 'ioasid', 'v1', 'ioasid.proto');

/**
 * Absolute path of ioasid.proto. The proto stays in the repository's `proto/` (it is the
 * contract clients compile too, so it is not copied into dist); this module runs from
 * dist/src/ in the repository or from a container's /app/dist/src/, so it looks upwards
 * for the package root instead of counting `..`.
 */
export function ioasidProtoPath(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, PROTO_FILE);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`${PROTO_FILE} not found above ${from}`);
  }
}
