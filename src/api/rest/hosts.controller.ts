import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { GetHardwareQuery, GetHostQuery, ListHostsQuery, VerifyHostQuery } from '../../application/messages';
import type { Principal } from '../../application/principal';
import type { RequestMeta } from '../../application/request-meta';
import type { HostPage } from '../../application/queries/host-queries.handler';
import { OperatorOnly } from '../../auth/access.decorators';
import { CurrentPrincipal } from '../../auth/current-principal.decorator';
import { HardwareQueryDto, RegisterHostDto } from '../dto/host.dto';
import { ListHostsQueryDto } from '../dto/page.dto';
import { HostPathDto } from '../dto/path.dto';
import { CommandSender } from './command-sender';
import { WriteMeta } from './write-meta.decorator';

@ApiTags('hosts')
@ApiBearerAuth()
@Controller('v1/hosts')
export class HostsController {
  constructor(
    private readonly commands: CommandSender,
    private readonly queryBus: QueryBus,
  ) {}

  @Post()
  @OperatorOnly()
  registerHost(@Body() dto: RegisterHostDto, @WriteMeta() meta: RequestMeta, @Res() res: FastifyReply): Promise<void> {
    const { hostId, pasidBits, enqcmd, nestedPasidTable, devices } = dto;
    const command = { type: 'RegisterHost' as const, hostId, pasidBits, enqcmd, nestedPasidTable, devices: devices.map((d) => ({ rid: d.rid, kind: d.kind, pasidBits: d.pasidBits })) };
    return this.commands.run(res, command, meta, 201, hostId);
  }

  /** {hosts: [...], nextPageToken?}: a list answer is an object, like gRPC's, so it can grow fields. */
  @Get()
  listHosts(@Query() query: ListHostsQueryDto, @CurrentPrincipal() principal: Principal): Promise<HostPage> {
    return this.queryBus.execute<ListHostsQuery, HostPage>(new ListHostsQuery(principal, { ...query }));
  }

  @Get(':hostId')
  getHost(@Param() path: HostPathDto, @CurrentPrincipal() principal: Principal): Promise<unknown> {
    return this.queryBus.execute(new GetHostQuery(principal, path.hostId));
  }

  /** The emulated hardware, now or as of event version `?version=N`. */
  @Get(':hostId/hardware')
  @OperatorOnly()
  getHardware(@Param() path: HostPathDto, @Query() query: HardwareQueryDto, @CurrentPrincipal() principal: Principal): Promise<unknown> {
    return this.queryBus.execute(new GetHardwareQuery(principal, path.hostId, query.version));
  }

  /** {ok, version, hash}: the hash chain and a full replay agree with the live state. */
  @Get(':hostId/verify')
  @OperatorOnly()
  verifyHost(@Param() path: HostPathDto, @CurrentPrincipal() principal: Principal): Promise<unknown> {
    return this.queryBus.execute(new VerifyHostQuery(principal, path.hostId));
  }
}
