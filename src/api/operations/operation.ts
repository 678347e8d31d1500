import type { Type } from '@nestjs/common';
import type { QueryBus } from '@nestjs/cqrs';
import type { HostCommandRunner } from '../../application/host-command-runner';
import type { FdMigrator } from '../../application/migration/fd-migrator';
import type { Principal } from '../../application/principal';
import type { RequestMeta } from '../../application/request-meta';
import type { TenantCreator } from '../../application/tenant-creator';
import type { WatchSubscription } from '../../application/watch/watch-subscription';
import type { HostCommand } from '../../model/commands';
import type { ApiErrorCode } from '../errors/error-table';
import { HEADERS, type ApiHeader } from './headers';

/**
 * One operation of the public API, declared once (operation-table.ts) and served from that
 * declaration by both transports: REST routes and their OpenAPI description (src/api/rest),
 * and the gRPC handlers (src/api/grpc). The spirit of iommufd's IOCTL_OP table: the command,
 * its argument and answer shapes, and the adapters' names for it in one row.
 */
export interface Operation<I = any> {
  /** The short operationId (OpenAPI), the REST and gRPC handlers' name, and the operation in idempotency fingerprints. */
  id: string;
  summary: string;
  description?: string;
  /** The OpenAPI tag (the resource). */
  tag: string;
  /** What the operation acts on; `fd` operations find their host in the fd directory. */
  target: 'tenant' | 'host' | 'fd' | 'migration' | 'events';
  /** Refused to tenants (FORBIDDEN) by the auth guard. */
  operatorOnly: boolean;
  /** The request's parts as REST splits them; gRPC's request message carries them all (their intersection). */
  input: OperationInput;
  /** The answer's shape; absent when there is no body (REST 204, gRPC ioasid.v1.Empty). */
  response?: Type;
  /** The codes this operation can answer besides the ones every operation can (errorCodesOf). */
  errors: readonly ApiErrorCode[];
  /** The headers this operation reads and answers besides the ones every operation does (headersOf). */
  headers: { reads: readonly ApiHeader[]; writes: readonly ApiHeader[] };
  /**
   * A change of one existing fd: If-Match (gRPC `expectedVersion`) makes it conditional on the
   * fd's version, refused with PRECONDITION_FAILED when the fd changed since (FdPreconditions).
   */
  conditional: boolean;
  /** REST: method, route (Nest syntax) and success status: the only place an HTTP status is chosen. */
  rest: { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string; status: 200 | 201 | 204 };
  /**
   * gRPC: the ioasid.v1.IoasidService method; `message` shapes the answer (a stream's: each
   * item) where the proto carries JSON strings.
   */
  grpc: { method: string; message?: (body: any) => unknown };
  execution: Execution<I>;
}

export interface OperationInput {
  path?: Type;
  query?: Type;
  body?: Type;
}

type Part<S, K extends string> = S extends { [key in K]: Type<infer T> } ? T : unknown;
/** The validated input of an operation: its path, query and body fields in one object (gRPC's request message). */
export type InputOf<S extends OperationInput> = Part<S, 'path'> & Part<S, 'query'> & Part<S, 'body'>;

/** The application services an operation runs on: writes through injected runners, reads on the query bus. */
export interface OperationServices {
  hostCommands: HostCommandRunner;
  tenants: TenantCreator;
  migrations: FdMigrator;
  queries: QueryBus;
}

/** What a write or read answers: the body (undefined: none), and the values of the response headers the row declares, by key. */
export interface Answer {
  body: unknown;
  headers?: Record<string, string>;
}

export type Execution<I> =
  /** A write: the adapter builds its RequestMeta (ids, and the Idempotency-Key unless `idempotencyKey` is false). */
  | { kind: 'write'; idempotencyKey: boolean; run: (input: I, meta: RequestMeta, services: OperationServices) => Promise<Answer> }
  | { kind: 'read'; run: (input: I, principal: Principal, services: OperationServices) => Promise<Answer> }
  /**
   * A stream of events as they commit, each with the cursor to resume after it: REST answers
   * it as Server-Sent Events (text/event-stream), gRPC as a server stream. Everything that can
   * be refused is refused by `open`, before anything is streamed. `lastEventId` is SSE's resume
   * header (REST's Last-Event-ID).
   */
  | { kind: 'stream'; open: (input: I, principal: Principal, services: OperationServices, lastEventId?: string) => Promise<WatchSubscription> };

interface Common<S extends OperationInput> {
  id: string;
  summary: string;
  description?: string;
  tag: string;
  operatorOnly?: boolean;
  input: S;
  response?: Type;
  errors?: readonly ApiErrorCode[];
  headers?: Partial<Operation['headers']>;
  rest: Operation['rest'];
  grpc: Operation['grpc'];
}

/** A host command: built from the input and run by the HostCommandRunner; `hostId` names its host when the command does not. */
export interface HostCommandSpec<S extends OperationInput> extends Common<S> {
  target: 'host' | 'fd';
  command: (input: InputOf<S>, principal: Principal) => HostCommand;
  hostId?: (input: InputOf<S>) => string;
  /** False for a read-like command (get hwid): a repeat is not answered from an Idempotency-Key. */
  idempotencyKey?: boolean;
}

export function hostCommand<S extends OperationInput>(spec: HostCommandSpec<S>): Operation<InputOf<S>> {
  const { command, hostId, idempotencyKey = true, ...rest } = spec;
  // Any host command may keep losing its host's next version to other writers (bounded retries).
  return operation({ ...rest, errors: [...(rest.errors ?? []), 'VERSION_CONFLICT'] }, {
    kind: 'write',
    idempotencyKey,
    run: async (input, meta, services) => ({ body: await services.hostCommands.run(command(input, meta.principal), meta, hostId?.(input)) }),
  });
}

/** Another write (a tenant, a migration): `run` calls its application service. */
export interface WriteSpec<S extends OperationInput> extends Common<S> {
  target: Operation['target'];
  run: (input: InputOf<S>, meta: RequestMeta, services: OperationServices) => Promise<unknown>;
}

export function write<S extends OperationInput>(spec: WriteSpec<S>): Operation<InputOf<S>> {
  const { run, ...rest } = spec;
  return operation(rest, { kind: 'write', idempotencyKey: true, run: async (input, meta, services) => ({ body: await run(input, meta, services) }) });
}

/**
 * A read: one CQRS query; `answer` wraps its result when the body is more than the result
 * (lists are objects); `answerHeaders` gives the values of the response headers the row
 * declares (`headers.writes`), read for that result.
 */
export interface QuerySpec<S extends OperationInput, R> extends Common<S> {
  target: Operation['target'];
  query: (input: InputOf<S>, principal: Principal) => object;
  answer?: (result: R) => unknown;
  answerHeaders?: (result: R, input: InputOf<S>, principal: Principal, services: OperationServices) => Promise<Record<string, string>>;
}

export function query<S extends OperationInput, R = unknown>(spec: QuerySpec<S, R>): Operation<InputOf<S>> {
  const { query: build, answer, answerHeaders, ...rest } = spec;
  return operation(rest, {
    kind: 'read',
    run: async (input, principal, services) => {
      const result = await services.queries.execute<object, R>(build(input, principal));
      return { body: answer ? answer(result) : result, ...(answerHeaders ? { headers: await answerHeaders(result, input, principal, services) } : {}) };
    },
  });
}

/** A stream: one CQRS query answering the WatchSubscription that the adapters stream (`rest.status` is the stream's, 200). */
export interface StreamSpec<S extends OperationInput> extends Common<S> {
  target: Operation['target'];
  query: (input: InputOf<S>, principal: Principal, lastEventId?: string) => object;
}

export function stream<S extends OperationInput>(spec: StreamSpec<S>): Operation<InputOf<S>> {
  const { query: build, ...rest } = spec;
  return operation(rest, {
    kind: 'stream',
    open: (input, principal, services, lastEventId) => services.queries.execute<object, WatchSubscription>(build(input, principal, lastEventId)),
  });
}

function operation<I>(spec: Common<OperationInput> & { target: Operation['target'] }, execution: Execution<I>): Operation<I> {
  const headers = { reads: spec.headers?.reads ?? [], writes: spec.headers?.writes ?? [] };
  // Every change of an existing fd is conditional; a read-like command (get hwid: no Idempotency-Key) changes nothing a caller saw.
  const conditional = spec.target === 'fd' && execution.kind === 'write' && execution.idempotencyKey;
  return { ...spec, operatorOnly: spec.operatorOnly ?? false, errors: spec.errors ?? [], headers, conditional, execution };
}

/**
 * Every code an operation can answer: its own, and those of its kind. Any call can fail
 * authentication, validation (a body that is not JSON, a bad field or Idempotency-Key), the
 * store (UNAVAILABLE) or, unexpectedly, INTERNAL; operator operations refuse tenants; a host
 * command that keeps losing the race for its host's next version answers VERSION_CONFLICT; a
 * write with a key reused for another request, IDEMPOTENCY_KEY_REUSED.
 */
export function errorCodesOf(op: Operation): ApiErrorCode[] {
  const codes = new Set<ApiErrorCode>(['VALIDATION_FAILED', 'UNAUTHENTICATED']);
  if (op.operatorOnly) codes.add('FORBIDDEN');
  for (const code of op.errors) codes.add(code);
  if (op.conditional) codes.add('PRECONDITION_FAILED');
  if (op.execution.kind === 'write' && op.execution.idempotencyKey) codes.add('IDEMPOTENCY_KEY_REUSED');
  codes.add('UNAVAILABLE');
  codes.add('INTERNAL');
  return [...codes];
}

/**
 * The headers an operation reads and answers: its own, and x-correlation-id (every request),
 * Idempotency-Key (every write that honours it), If-Match (every conditional write).
 */
export function headersOf(op: Operation): { reads: ApiHeader[]; writes: ApiHeader[] } {
  const keyed = op.execution.kind === 'write' && op.execution.idempotencyKey;
  return {
    reads: [HEADERS.correlationId, ...(keyed ? [HEADERS.idempotencyKey] : []), ...(op.conditional ? [HEADERS.ifMatch] : []), ...op.headers.reads],
    writes: [HEADERS.correlationId, ...op.headers.writes],
  };
}
