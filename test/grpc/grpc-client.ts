import * as grpc from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { join } from 'node:path';
import { ioasidProtoPath } from '../../src/api/grpc/proto-path';

type UnaryMethod = (
  request: object,
  metadata: grpc.Metadata,
  callback: (error: grpc.ServiceError | null, response: unknown) => void,
) => grpc.ClientUnaryCall;

export interface CallOptions {
  /** Bearer token; null sends no `authorization` at all. */
  token?: string | null;
  idempotencyKey?: string;
  correlationId?: string;
}

function loadPackage(file: string, options?: Options): grpc.GrpcObject {
  return grpc.loadPackageDefinition(loadSync(file, options));
}

function lookup(root: grpc.GrpcObject, name: string): grpc.ServiceClientConstructor {
  return name.split('.').reduce<unknown>((o, part) => (o as grpc.GrpcObject)[part], root) as grpc.ServiceClientConstructor;
}

/**
 * A plain @grpc/grpc-js client of ioasid.v1, loading the proto with proto-loader's
 * defaults: what an orchestrator written against the published proto sees (camelCase
 * fields, fields the server left unset absent).
 */
export class IoasidClient {
  private readonly client: grpc.Client & Record<string, UnaryMethod>;

  constructor(
    readonly url: string,
    /** Sent as `authorization: Bearer <token>` unless a call says otherwise. */
    readonly token?: string,
  ) {
    const Service = lookup(loadPackage(ioasidProtoPath()), 'ioasid.v1.IoasidService');
    this.client = new Service(url, grpc.credentials.createInsecure()) as grpc.Client & Record<string, UnaryMethod>;
  }

  /** As another caller (another token) on the same channel settings. */
  as(token: string): IoasidClient {
    return new IoasidClient(this.url, token);
  }

  // Answers are untyped: tests read them as a client of the raw proto would.
  async call<T = any>(method: string, request: object = {}, options: CallOptions = {}): Promise<T> {
    return (await this.callWithMetadata<T>(method, request, options)).response;
  }

  /** The answer and the initial metadata the server sent with it (GetFd's `etag`). */
  callWithMetadata<T = any>(method: string, request: object = {}, options: CallOptions = {}): Promise<{ response: T; metadata: grpc.Metadata }> {
    const fn = this.client[method];
    if (typeof fn !== 'function') throw new Error(`no RPC ${method} in ioasid.v1.IoasidService`);
    let initial = new grpc.Metadata();
    return new Promise((resolve, reject) => {
      const call = fn.call(this.client, request, this.metadataFor(options), (error, response) =>
        error ? reject(error) : resolve({ response: response as T, metadata: initial }),
      );
      call.on('metadata', (metadata: grpc.Metadata) => (initial = metadata));
    });
  }

  /** A server-streaming RPC (WatchEvents): the stream of answers. */
  stream<T = any>(method: string, request: object = {}, options: CallOptions = {}): grpc.ClientReadableStream<T> {
    const fn = (this.client as unknown as Record<string, (request: object, metadata: grpc.Metadata) => grpc.ClientReadableStream<T>>)[method];
    if (typeof fn !== 'function') throw new Error(`no RPC ${method} in ioasid.v1.IoasidService`);
    return fn.call(this.client, request, this.metadataFor(options));
  }

  private metadataFor(options: CallOptions): grpc.Metadata {
    const metadata = new grpc.Metadata();
    const token = options.token === undefined ? this.token : options.token;
    if (token !== null && token !== undefined) metadata.set('authorization', `Bearer ${token}`);
    if (options.idempotencyKey !== undefined) metadata.set('idempotency-key', options.idempotencyKey);
    if (options.correlationId !== undefined) metadata.set('x-correlation-id', options.correlationId);
    return metadata;
  }

  close(): void {
    this.client.close();
  }
}

/** The error of a call that must fail (rejects if it succeeds). */
export async function callError(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as grpc.ServiceError;
  }
  throw new Error('the call succeeded but an error was expected');
}

/** The stable API code and details carried in trailing metadata. */
export function errorCodeOf(error: grpc.ServiceError): { code: string | undefined; details: unknown } {
  const [code] = error.metadata.get('error-code');
  const [details] = error.metadata.get('error-details');
  return { code: code?.toString(), details: details === undefined ? undefined : JSON.parse(details.toString()) };
}

const REFLECTION_PROTO = join(require.resolve('@grpc/reflection'), '..', '..', 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto');

interface ReflectionResponse {
  errorResponse?: { errorMessage: string };
  listServicesResponse?: { service: Array<{ name: string }> };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
}

/** One request to the server's reflection (grpc.reflection.v1), as grpcurl sends them. */
function reflect(url: string, request: object): Promise<ReflectionResponse> {
  const Reflection = lookup(loadPackage(REFLECTION_PROTO), 'grpc.reflection.v1.ServerReflection');
  const client = new Reflection(url, grpc.credentials.createInsecure());
  return new Promise<ReflectionResponse>((resolve, reject) => {
    const open = (client as unknown as Record<string, () => grpc.ClientDuplexStream<object, ReflectionResponse>>).serverReflectionInfo;
    const stream = open.call(client);
    stream.on('data', (response: ReflectionResponse) => {
      if (response.errorResponse) reject(new Error(response.errorResponse.errorMessage));
      else resolve(response);
      stream.end();
    });
    stream.on('error', reject);
    stream.on('end', () => client.close());
    stream.write(request);
  });
}

/** The service names reflection lists (`grpcurl list`). */
export async function listServicesByReflection(url: string): Promise<string[]> {
  const { listServicesResponse } = await reflect(url, { listServices: '' });
  return (listServicesResponse?.service ?? []).map((s) => s.name);
}

/** How many file descriptors reflection sends to describe `symbol` (the file and everything it needs). */
export async function descriptorFilesFor(url: string, symbol: string): Promise<number> {
  const { fileDescriptorResponse } = await reflect(url, { fileContainingSymbol: symbol });
  return fileDescriptorResponse?.fileDescriptorProto.length ?? 0;
}

/** The `grpc.health.v1.Health/Check` status name (e.g. "SERVING") for `service`. */
export function healthStatus(url: string, service: string): Promise<string> {
  const Health = lookup(loadPackage(healthProtoPath, { enums: String }), 'grpc.health.v1.Health');
  const client = new Health(url, grpc.credentials.createInsecure()) as grpc.Client & Record<string, UnaryMethod>;
  return new Promise<string>((resolve, reject) =>
    client.check({ service }, new grpc.Metadata(), (error, response) => {
      client.close();
      if (error) reject(error);
      else resolve((response as { status: string }).status);
    }),
  );
}

/**
 * Calls `read` until `done` holds: the hardware view is a projection, fed after the
 * commit. Bounded in attempts; nothing about time is asserted.
 */
export async function readUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, attempts = 400): Promise<T> {
  let last = await read();
  for (let i = 1; i < attempts && !done(last); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    last = await read();
  }
  return last;
}
