import { Metadata, type ServerUnaryCall } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import {
  CreateTenantCommand,
  GetFdQuery,
  GetHardwareQuery,
  GetHostQuery,
  ListEventsQuery,
  ListFdsQuery,
  ListHostsQuery,
  RunHostCommand,
  VerifyHostQuery,
} from '../../application/messages';
import { GetMigrationQuery, MigrateFdCommand } from '../../application/migration/messages';
import type { Principal } from '../../application/principal';
import { GetFdVersionQuery } from '../../application/queries/fd-version.handler';
import type { CommandResponse, RequestMeta } from '../../application/request-meta';
import { OperatorOnly } from '../../auth/access.decorators';
import { CurrentPrincipal } from '../../auth/current-principal.decorator';
import type { HostCommand } from '../../domain/commands';
import type { EventEnvelope } from '../../domain/envelope';
import type { FdView } from '../../domain/views';
import { etagOf } from '../conditional';
import { ListEventsQueryDto } from '../dto/events.dto';
import { CreateFdDto, ListFdsQueryDto } from '../dto/fd.dto';
import { RegisterHostDto } from '../dto/host.dto';
import { MigrationPathDto } from '../dto/migration.dto';
import { ListHostsQueryDto } from '../dto/page.dto';
import { FdPathDto, HostPathDto, IoasidPathDto } from '../dto/path.dto';
import { CreateTenantDto } from '../dto/tenant.dto';
import { fdScope, owningTenant } from '../rest/fd-scope';
import {
  AttachDeviceRequest,
  DetachDeviceRequest,
  FdWriteRequest,
  GetHardwareRequest,
  IoasidGpaRequest,
  IoasidWriteRequest,
  KvmMappingWriteRequest,
  MigrateFdRequest,
  SetGlobalMinRequest,
  SetHwidModeRequest,
  SetHwidRequest,
  SetKvmPasidMappingRequest,
} from './grpc-requests';
import { GrpcCall } from './grpc-call.decorator';
import { eventPageMessage, hardwareMessage, type HardwareViewBody } from './grpc-responses';
import { GrpcWriteMeta } from './grpc-write-meta.decorator';
import { IOASID_SERVICE } from './proto-path';

/**
 * ioasid.v1.IoasidService: each RPC is its REST operation over the same CQRS messages.
 * The global pipe has validated the request against REST's DTO classes and the global
 * guard has authenticated the caller before a method runs; errors leave through the
 * shared exception filter. Methods are named like REST's handlers: the name is the
 * operation in idempotency fingerprints.
 */
@Controller()
export class IoasidGrpcController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  @GrpcMethod(IOASID_SERVICE, 'CreateTenant')
  @OperatorOnly()
  async createTenant(@Payload() request: CreateTenantDto, @GrpcWriteMeta() meta: RequestMeta): Promise<unknown> {
    const response = await this.commandBus.execute<CreateTenantCommand, CommandResponse>(new CreateTenantCommand(request.name, request.quotas, meta));
    return response.body;
  }

  @GrpcMethod(IOASID_SERVICE, 'RegisterHost')
  @OperatorOnly()
  registerHost(@Payload() request: RegisterHostDto, @GrpcWriteMeta() meta: RequestMeta): Promise<unknown> {
    const { hostId, pasidBits, enqcmd, nestedPasidTable, devices } = request;
    const command = { type: 'RegisterHost' as const, hostId, pasidBits, enqcmd, nestedPasidTable, devices: devices.map((d) => ({ rid: d.rid, kind: d.kind, pasidBits: d.pasidBits })) };
    return this.run(command, meta, 201, hostId);
  }

  @GrpcMethod(IOASID_SERVICE, 'GetHost')
  getHost(@Payload() request: HostPathDto, @CurrentPrincipal() principal: Principal): Promise<unknown> {
    return this.queryBus.execute(new GetHostQuery(principal, request.hostId));
  }

  @GrpcMethod(IOASID_SERVICE, 'ListHosts')
  listHosts(@Payload() request: ListHostsQueryDto, @CurrentPrincipal() principal: Principal): Promise<unknown> {
    return this.queryBus.execute(new ListHostsQuery(principal, { ...request }));
  }

  @GrpcMethod(IOASID_SERVICE, 'CreateFd')
  createFd(@Payload() request: CreateFdDto, @GrpcWriteMeta() meta: RequestMeta): Promise<unknown> {
    const tenantId = owningTenant(meta.principal, request.tenantId);
    const actor = meta.principal.kind === 'tenant' ? { actorTenantId: tenantId } : {};
    return this.run({ type: 'CreateFd', fdId: randomUUID(), tenantId, vmId: request.vmId, ...actor }, meta, 201, request.hostId);
  }

  /** Initial metadata `etag`: the fd's version (REST's ETag), for `expected_version` on its writes. */
  @GrpcMethod(IOASID_SERVICE, 'GetFd')
  async getFd(@Payload() request: FdPathDto, @CurrentPrincipal() principal: Principal, @GrpcCall() call: ServerUnaryCall<unknown, unknown>): Promise<unknown> {
    const view = await this.queryBus.execute<GetFdQuery, FdView>(new GetFdQuery(principal, request.fdId));
    const metadata = new Metadata();
    metadata.set('etag', etagOf(await this.queryBus.execute<GetFdVersionQuery, number>(new GetFdVersionQuery(principal, request.fdId, view.version))));
    call.sendMetadata(metadata);
    return view;
  }

  @GrpcMethod(IOASID_SERVICE, 'ListFds')
  listFds(@Payload() request: ListFdsQueryDto, @CurrentPrincipal() principal: Principal): Promise<unknown> {
    const { hostId, ...page } = request;
    return this.queryBus.execute(new ListFdsQuery(principal, hostId, page));
  }

  @GrpcMethod(IOASID_SERVICE, 'CloseFd')
  closeFd(@Payload() request: FdWriteRequest, @GrpcWriteMeta() meta: RequestMeta): Promise<unknown> {
    return this.run({ type: 'CloseFd', ...fdScope(meta.principal, request.fdId) }, meta, 204);
  }

  @GrpcMethod(IOASID_SERVICE, 'SetHwidMode')
  setHwidMode(@Payload() request: SetHwidModeRequest, @GrpcWriteMeta() meta: RequestMeta): Promise<unknown> {
    return this.run({ type: 'SetHwidMode', ...fdScope(meta.principal, request.fdId), mode: request.mode }, meta, 200);
  }

  @GrpcMethod(IOASID_SERVICE, 'SetGlobalMin')
  setGlobalMin(@Payload() request: SetGlobalMinRequest, @GrpcWriteMeta() meta: RequestMeta): Promise<unknown> {
    return this.run({ type: 'SetGlobalMin', ...fdScope(meta.principal, request.fdId), globalMin: request.globalMin }, meta, 200);
  }

  @GrpcMethod(IOASID_SERVICE, 'AllocIoasid')
  allocIoasid(@Payload() request: FdWriteRequest, @GrpcWriteMeta() meta: RequestMeta): Promise<unknown> {
    return this.run({ type: 'AllocIoasid', ...fdScope(meta.principal, request.fdId) }, meta, 201);
  }

  @GrpcMethod(IOASID_SERVICE, 'FreeIoasid')
  freeIoasid(@Payload() request: IoasidWriteRequest, @GrpcWriteMeta() meta: RequestMeta): Promise<unknown> {
    return this.run({ type: 'FreeIoasid', ...fdScope(meta.principal, request.fdId), ioasid: request.ioasid }, meta, 204);
  }

  @GrpcMethod(IOASID_SERVICE, 'AttachDevice')
  attachDevice(@Payload() request: AttachDeviceRequest, @GrpcWriteMeta() meta: RequestMeta): Promise<unknown> {
    const { fdId, ioasid, rid, enqcmd } = request;
    return this.run({ type: 'AttachDevice', ...fdScope(meta.principal, fdId), ioasid, rid, enqcmd: enqcmd ?? false }, meta, 201);
  }

  @GrpcMethod(IOASID_SERVICE, 'DetachDevice')
  detachDevice(@Payload() request: DetachDeviceRequest, @GrpcWriteMeta() meta: RequestMeta): Promise<unknown> {
    const { fdId, ioasid, rid, mdevId } = request;
    const mdev = mdevId === undefined ? {} : { mdevId };
    return this.run({ type: 'DetachDevice', ...fdScope(meta.principal, fdId), ioasid, rid, ...mdev }, meta, 204);
  }

  @GrpcMethod(IOASID_SERVICE, 'SetPasidTable')
  setPasidTable(@Payload() request: IoasidGpaRequest, @GrpcWriteMeta() meta: RequestMeta): Promise<unknown> {
    return this.run({ type: 'SetPasidTable', ...fdScope(meta.principal, request.fdId), ioasid: request.ioasid, gpa: request.gpa }, meta, 200);
  }

  @GrpcMethod(IOASID_SERVICE, 'SetHwid')
  setHwid(@Payload() request: SetHwidRequest, @GrpcWriteMeta() meta: RequestMeta): Promise<unknown> {
    return this.run({ type: 'SetHwid', ...fdScope(meta.principal, request.fdId), ioasid: request.ioasid, pasid: request.pasid }, meta, 200);
  }

  /** A command, not a query: exposing a real siov PASID in local mode makes the fd non-migratable. */
  @GrpcMethod(IOASID_SERVICE, 'GetHwid')
  getHwid(@Payload() request: IoasidPathDto, @GrpcWriteMeta({ ignoreIdempotencyKey: true }) meta: RequestMeta): Promise<unknown> {
    return this.run({ type: 'GetHwid', ...fdScope(meta.principal, request.fdId), ioasid: request.ioasid }, meta, 200);
  }

  @GrpcMethod(IOASID_SERVICE, 'BindPgtable')
  bindPgtable(@Payload() request: IoasidGpaRequest, @GrpcWriteMeta() meta: RequestMeta): Promise<unknown> {
    return this.run({ type: 'BindPgtable', ...fdScope(meta.principal, request.fdId), ioasid: request.ioasid, gpa: request.gpa }, meta, 200);
  }

  @GrpcMethod(IOASID_SERVICE, 'UnbindPgtable')
  unbindPgtable(@Payload() request: IoasidWriteRequest, @GrpcWriteMeta() meta: RequestMeta): Promise<unknown> {
    return this.run({ type: 'UnbindPgtable', ...fdScope(meta.principal, request.fdId), ioasid: request.ioasid }, meta, 204);
  }

  @GrpcMethod(IOASID_SERVICE, 'SetKvmPasidMapping')
  setKvmPasidMapping(@Payload() request: SetKvmPasidMappingRequest, @GrpcWriteMeta() meta: RequestMeta): Promise<unknown> {
    const { fdId, guestPasid, hostPasid } = request;
    return this.run({ type: 'SetKvmPasidMapping', ...fdScope(meta.principal, fdId), guestPasid, hostPasid }, meta, 200);
  }

  @GrpcMethod(IOASID_SERVICE, 'UnsetKvmPasidMapping')
  unsetKvmPasidMapping(@Payload() request: KvmMappingWriteRequest, @GrpcWriteMeta() meta: RequestMeta): Promise<unknown> {
    return this.run({ type: 'UnsetKvmPasidMapping', ...fdScope(meta.principal, request.fdId), guestPasid: request.guestPasid }, meta, 204);
  }

  @GrpcMethod(IOASID_SERVICE, 'MigrateFd')
  async migrateFd(@Payload() request: MigrateFdRequest, @GrpcWriteMeta() meta: RequestMeta): Promise<unknown> {
    const command = new MigrateFdCommand(request.fdId, request.targetHostId, request.deviceMap, meta);
    return (await this.commandBus.execute<MigrateFdCommand, CommandResponse>(command)).body;
  }

  @GrpcMethod(IOASID_SERVICE, 'GetMigration')
  getMigration(@Payload() request: MigrationPathDto, @CurrentPrincipal() principal: Principal): Promise<unknown> {
    return this.queryBus.execute(new GetMigrationQuery(principal, request.migrationId));
  }

  @GrpcMethod(IOASID_SERVICE, 'ListEvents')
  async listEvents(@Payload() request: ListEventsQueryDto, @CurrentPrincipal() principal: Principal): Promise<unknown> {
    const page = await this.queryBus.execute<ListEventsQuery, { events: EventEnvelope[]; nextPageToken?: string }>(new ListEventsQuery(principal, { ...request }));
    return eventPageMessage(page);
  }

  @GrpcMethod(IOASID_SERVICE, 'GetHardware')
  @OperatorOnly()
  async getHardware(@Payload() request: GetHardwareRequest, @CurrentPrincipal() principal: Principal): Promise<unknown> {
    const view = await this.queryBus.execute<GetHardwareQuery, HardwareViewBody>(new GetHardwareQuery(principal, request.hostId, request.version));
    return hardwareMessage(view);
  }

  @GrpcMethod(IOASID_SERVICE, 'VerifyHost')
  @OperatorOnly()
  verifyHost(@Payload() request: HostPathDto, @CurrentPrincipal() principal: Principal): Promise<unknown> {
    return this.queryBus.execute(new VerifyHostQuery(principal, request.hostId));
  }

  /** The handler's answer body is the response message; a 204's absent body is ioasid.v1.Empty. */
  private async run(command: HostCommand, meta: RequestMeta, successStatus: number, hostId?: string): Promise<unknown> {
    const response = await this.commandBus.execute<RunHostCommand, CommandResponse>(new RunHostCommand(command, meta, successStatus, hostId));
    return response.body ?? {};
  }
}
