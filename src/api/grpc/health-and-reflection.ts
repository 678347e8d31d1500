import type { Server, ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { HealthImplementation, protoPath as healthProtoPath, service as healthService, type ServingStatus } from 'grpc-health-check';
import { IOASID_SERVICE_FULL_NAME } from './proto-path';

/** The names health answers for: the server as a whole ("") and our service; any other is NOT_FOUND. */
const HEALTH_SERVICES = ['', IOASID_SERVICE_FULL_NAME];
/** While a Watch stream is open, readiness is looked at this often and a change is sent on it. */
const WATCH_REFRESH_MS = 2000;

/**
 * The standard services every gRPC tool expects beside ours: `grpc.health.v1.Health`
 * (load balancers, `grpc_health_probe`) and server reflection (grpcurl, Postman), which
 * describes our package and the health service. Health follows `ready`, the same readiness
 * as GET /readyz: SERVING or NOT_SERVING for each name.
 */
export function addHealthAndReflection(ioasidPackage: PackageDefinition, server: Server, ready: () => Promise<boolean>): void {
  new ReadinessHealth(ready).addToServer(server);
  new ReflectionService({ ...ioasidPackage, ...loadSync(healthProtoPath) }).addToServer(server);
}

/**
 * grpc-health-check's service (its status map, Watch streams and List), with the status taken
 * from readiness: afresh on every Check, and periodically while a Watch stream is open.
 */
class ReadinessHealth {
  private readonly health = new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((s) => [s, 'NOT_SERVING'])));
  private status: ServingStatus = 'NOT_SERVING';
  private watchers = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly ready: () => Promise<boolean>) {}

  addToServer(server: Server): void {
    // The library's handlers, captured to be wrapped: it only hands them to addService.
    let handlers: UntypedServiceImplementation = {};
    this.health.addToServer({ addService: (_definition: unknown, implementation: UntypedServiceImplementation) => (handlers = implementation) } as unknown as Server);
    server.addService(healthService, {
      ...handlers,
      check: (call: unknown, callback: unknown) => void this.refresh().then(() => (handlers.check as (c: unknown, cb: unknown) => void)(call, callback)),
      watch: (call: ServerWritableStream<unknown, unknown>) => {
        (handlers.watch as (c: unknown) => void)(call);
        this.watchStarted();
        call.on('cancelled', () => this.watchEnded());
        void this.refresh();
      },
    });
  }

  private async refresh(): Promise<void> {
    const status: ServingStatus = (await this.ready().catch(() => false)) ? 'SERVING' : 'NOT_SERVING';
    if (status === this.status) return;
    this.status = status;
    for (const name of HEALTH_SERVICES) this.health.setStatus(name, status);
  }

  private watchStarted(): void {
    if (this.watchers++ > 0) return;
    this.timer = setInterval(() => void this.refresh(), WATCH_REFRESH_MS);
    this.timer.unref();
  }

  private watchEnded(): void {
    if (--this.watchers > 0) return;
    clearInterval(this.timer);
  }
}
