import { Body, Controller, Delete, HttpCode, Get, Param, Post, Put, Query, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { GetFdQuery, ListFdsQuery } from '../../application/messages';
import type { FdPage } from '../../application/queries/fd-queries.handler';
import { GetFdVersionQuery } from '../../application/queries/fd-version.handler';
import type { Principal } from '../../application/principal';
import type { RequestMeta } from '../../application/request-meta';
import type { FdView } from '../../domain/views';
import { CurrentPrincipal } from '../../auth/current-principal.decorator';
import { etagOf } from '../conditional';
import { CreateFdDto, ListFdsQueryDto, SetGlobalMinDto, SetHwidModeDto } from '../dto/fd.dto';
import { FdPathDto } from '../dto/path.dto';
import { CommandSender } from './command-sender';
import { fdScope, owningTenant } from './fd-scope';
import { WriteMeta } from './write-meta.decorator';

@ApiTags('fds')
@ApiBearerAuth()
@Controller('v1/fds')
export class FdsController {
  constructor(
    private readonly commands: CommandSender,
    private readonly queryBus: QueryBus,
  ) {}

  @Post()
  createFd(@Body() dto: CreateFdDto, @WriteMeta() meta: RequestMeta, @Res() res: FastifyReply): Promise<void> {
    const tenantId = owningTenant(meta.principal, dto.tenantId);
    const actor = meta.principal.kind === 'tenant' ? { actorTenantId: tenantId } : {};
    return this.commands.run(res, { type: 'CreateFd', fdId: randomUUID(), tenantId, vmId: dto.vmId, ...actor }, meta, 201, dto.hostId);
  }

  /** {fds: [...], nextPageToken?}, the caller's own (all for the operator), optionally on one host. */
  @Get()
  listFds(@Query() query: ListFdsQueryDto, @CurrentPrincipal() principal: Principal): Promise<FdPage> {
    const { hostId, ...page } = query;
    return this.queryBus.execute<ListFdsQuery, FdPage>(new ListFdsQuery(principal, hostId, page));
  }

  /** ETag: the fd's version, for If-Match on the writes under /v1/fds/{fdId}. */
  @Get(':fdId')
  async getFd(@Param() path: FdPathDto, @CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) res: FastifyReply): Promise<FdView> {
    const view = await this.queryBus.execute<GetFdQuery, FdView>(new GetFdQuery(principal, path.fdId));
    void res.header('ETag', etagOf(await this.queryBus.execute<GetFdVersionQuery, number>(new GetFdVersionQuery(principal, path.fdId, view.version))));
    return view;
  }

  @Delete(':fdId')
  @HttpCode(204)
  closeFd(@Param() path: FdPathDto, @WriteMeta() meta: RequestMeta, @Res() res: FastifyReply): Promise<void> {
    return this.commands.run(res, { type: 'CloseFd', ...fdScope(meta.principal, path.fdId) }, meta, 204);
  }

  @Put(':fdId/hwid-mode')
  setHwidMode(@Param() path: FdPathDto, @Body() dto: SetHwidModeDto, @WriteMeta() meta: RequestMeta, @Res() res: FastifyReply): Promise<void> {
    return this.commands.run(res, { type: 'SetHwidMode', ...fdScope(meta.principal, path.fdId), mode: dto.mode }, meta, 200);
  }

  @Put(':fdId/global-min')
  setGlobalMin(@Param() path: FdPathDto, @Body() dto: SetGlobalMinDto, @WriteMeta() meta: RequestMeta, @Res() res: FastifyReply): Promise<void> {
    return this.commands.run(res, { type: 'SetGlobalMin', ...fdScope(meta.principal, path.fdId), globalMin: dto.globalMin }, meta, 200);
  }
}
