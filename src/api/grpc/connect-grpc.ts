import type { INestApplication } from '@nestjs/common';
import type { CustomStrategy } from '@nestjs/microservices';
import { ReadinessService } from '../../projections/readiness.service';
import { IoasidGrpcServer } from './grpc-server';
import { addHealthAndReflection } from './health-and-reflection';
import { IOASID_PACKAGE, ioasidProtoPath } from './proto-path';
import { markUndecodableRequests } from './undecodable-requests';

/**
 * How requests decode. Proto3 semantics, so a request reaches the shared REST DTOs as a
 * REST body would: `defaults: true` gives every plain field its value even when it equals
 * the default (proto3 leaves `enqcmd: false` or `pasid: 0` off the wire, and a required
 * boolean could otherwise never be false), while `optional` fields stay absent unless
 * sent; `oneofs: false` keeps protobufjs from adding virtual `_field` keys that the
 * validation would reject as unknown fields.
 */
const LOADER = { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: false };

/**
 * Serves `ioasid.v1` (with health, following the app's readiness, and reflection) on `grpcPort` beside REST. The
 * microservice inherits the app's global pipes, guards and filters, so both transports
 * share validation, auth and error mapping. Start it with `app.startAllMicroservices()`;
 * the returned server then knows its port.
 */
export function connectGrpc(app: INestApplication, grpcPort: number): IoasidGrpcServer {
  const readiness = app.get(ReadinessService);
  const server = new IoasidGrpcServer({
    package: IOASID_PACKAGE,
    protoPath: ioasidProtoPath(),
    url: `0.0.0.0:${grpcPort}`,
    loader: LOADER,
    onLoadPackageDefinition: (pkg, server) => {
      markUndecodableRequests(pkg);
      addHealthAndReflection(pkg, server, async () => (await readiness.check()).ready);
    },
  });
  app.connectMicroservice<CustomStrategy>({ strategy: server }, { inheritAppConfig: true });
  return server;
}
