import type { Server } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { IOASID_SERVICE_FULL_NAME } from './proto-path';

/**
 * The standard services every gRPC tool expects beside ours: `grpc.health.v1.Health`
 * (load balancers, `grpc_health_probe`) and server reflection (grpcurl, Postman), which
 * describes our package and the health service.
 */
export function addHealthAndReflection(ioasidPackage: PackageDefinition, server: Server): void {
  new HealthImplementation({ '': 'SERVING', [IOASID_SERVICE_FULL_NAME]: 'SERVING' }).addToServer(server);
  new ReflectionService({ ...ioasidPackage, ...loadSync(healthProtoPath) }).addToServer(server);
}
