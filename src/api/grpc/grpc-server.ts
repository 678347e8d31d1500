import { Server, ServerCredentials, type handleServerStreamingCall, type handleUnaryCall } from '@grpc/grpc-js';
import { Logger } from '@nestjs/common';
import { ServerGrpc } from '@nestjs/microservices';
import { withGrpcContext, withGrpcStreamContext } from '../../observability/grpc-access-log';
import { refuseUndecodable, refuseUndecodableStream } from './undecodable-requests';

/**
 * Nest's gRPC transport, plus what it lacks here:
 * - the port it bound: Nest binds inside `createClient` and drops it, and with
 *   GRPC_PORT=0 the OS picks it and clients need to know which;
 * - `unwrap`, which Nest refuses for gRPC, hands out the grpc-js server (graceful
 *   shutdown drains it);
 * - every call (the watch's stream too) runs in a request context with its access line, like REST requests;
 * - a request whose bytes do not decode is INVALID_ARGUMENT, not grpc-js's INTERNAL (the
 *   watch's stream too).
 */
export class IoasidGrpcServer extends ServerGrpc {
  private readonly accessLogger = new Logger('grpc');
  private port?: number;

  /** Binds like Nest does (insecure credentials; no channel options are configured here). */
  override async createClient(): Promise<Server> {
    const server = new Server();
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(this.url, ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))),
    );
    return server;
  }

  override createUnaryServiceMethod(methodHandler: Function): Function {
    return withGrpcContext(this.accessLogger, refuseUndecodable(super.createUnaryServiceMethod(methodHandler) as handleUnaryCall<unknown, unknown>));
  }

  override createStreamServiceMethod(methodHandler: Function): Function {
    return withGrpcStreamContext(this.accessLogger, refuseUndecodableStream(super.createStreamServiceMethod(methodHandler) as handleServerStreamingCall<unknown, unknown>));
  }

  /** The bound port; known once the microservice listens. */
  get boundPort(): number {
    if (this.port === undefined) throw new Error('the gRPC server is not listening yet');
    return this.port;
  }

  /** The grpc-js server, once the microservice listens. */
  override unwrap<T = Server>(): T {
    if (!this.grpcClient) throw new Error('the gRPC server is not listening yet');
    return this.grpcClient as T;
  }
}
