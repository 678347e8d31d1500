import { Body, Controller, Delete, HttpCode, Get, Param, Post, Put, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { RequestMeta } from '../../application/request-meta';
import { EmptyBodyDto, GpaDto, SetHwidDto } from '../dto/ioasid.dto';
import { FdPathDto, IoasidPathDto } from '../dto/path.dto';
import { CommandSender } from './command-sender';
import { fdScope } from './fd-scope';
import { WriteMeta } from './write-meta.decorator';

@ApiTags('ioasids')
@ApiBearerAuth()
@Controller('v1/fds/:fdId/ioasids')
export class IoasidsController {
  constructor(private readonly commands: CommandSender) {}

  @Post()
  allocIoasid(@Param() path: FdPathDto, @Body() _body: EmptyBodyDto, @WriteMeta() meta: RequestMeta, @Res() res: FastifyReply): Promise<void> {
    return this.commands.run(res, { type: 'AllocIoasid', ...fdScope(meta.principal, path.fdId) }, meta, 201);
  }

  @Delete(':ioasid')
  @HttpCode(204)
  freeIoasid(@Param() path: IoasidPathDto, @WriteMeta() meta: RequestMeta, @Res() res: FastifyReply): Promise<void> {
    return this.commands.run(res, { type: 'FreeIoasid', ...fdScope(meta.principal, path.fdId), ioasid: path.ioasid }, meta, 204);
  }

  @Put(':ioasid/pasid-table')
  setPasidTable(@Param() path: IoasidPathDto, @Body() dto: GpaDto, @WriteMeta() meta: RequestMeta, @Res() res: FastifyReply): Promise<void> {
    return this.commands.run(res, { type: 'SetPasidTable', ...fdScope(meta.principal, path.fdId), ioasid: path.ioasid, gpa: dto.gpa }, meta, 200);
  }

  /** 200 {ioasid, pasid, globalPasid?}: the host decides the host PASID(s) now. */
  @Put(':ioasid/hwid')
  setHwid(@Param() path: IoasidPathDto, @Body() dto: SetHwidDto, @WriteMeta() meta: RequestMeta, @Res() res: FastifyReply): Promise<void> {
    return this.commands.run(res, { type: 'SetHwid', ...fdScope(meta.principal, path.fdId), ioasid: path.ioasid, pasid: dto.pasid }, meta, 200);
  }

  /** A command, not a query: exposing a real siov PASID in local mode makes the fd non-migratable. */
  @Get(':ioasid/hwid')
  getHwid(@Param() path: IoasidPathDto, @WriteMeta() meta: RequestMeta, @Res() res: FastifyReply): Promise<void> {
    return this.commands.run(res, { type: 'GetHwid', ...fdScope(meta.principal, path.fdId), ioasid: path.ioasid }, meta, 200);
  }

  @Put(':ioasid/pgtable')
  bindPgtable(@Param() path: IoasidPathDto, @Body() dto: GpaDto, @WriteMeta() meta: RequestMeta, @Res() res: FastifyReply): Promise<void> {
    return this.commands.run(res, { type: 'BindPgtable', ...fdScope(meta.principal, path.fdId), ioasid: path.ioasid, gpa: dto.gpa }, meta, 200);
  }

  @Delete(':ioasid/pgtable')
  @HttpCode(204)
  unbindPgtable(@Param() path: IoasidPathDto, @WriteMeta() meta: RequestMeta, @Res() res: FastifyReply): Promise<void> {
    return this.commands.run(res, { type: 'UnbindPgtable', ...fdScope(meta.principal, path.fdId), ioasid: path.ioasid }, meta, 204);
  }
}
