import { Body, Controller, Delete, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { RequestMeta } from '../../application/request-meta';
import { AttachDeviceDto, DetachQueryDto } from '../dto/ioasid.dto';
import { AttachmentPathDto, IoasidPathDto } from '../dto/path.dto';
import { CommandSender } from './command-sender';
import { fdScope } from './fd-scope';
import { WriteMeta } from './write-meta.decorator';

@ApiTags('attachments')
@ApiBearerAuth()
@Controller('v1/fds/:fdId/ioasids/:ioasid/attachments')
export class AttachmentsController {
  constructor(private readonly commands: CommandSender) {}

  /** 201 {rid, ioasid, enqcmd, mdevId?}: a siov RID gets a new mdev per attach. */
  @Post()
  attachDevice(@Param() path: IoasidPathDto, @Body() dto: AttachDeviceDto, @WriteMeta() meta: RequestMeta, @Res() res: FastifyReply): Promise<void> {
    const command = { type: 'AttachDevice' as const, ...fdScope(meta.principal, path.fdId), ioasid: path.ioasid, rid: dto.rid, enqcmd: dto.enqcmd ?? false };
    return this.commands.run(res, command, meta, 201);
  }

  /** For a siov RID, `?mdevId=` names the mdev to destroy. */
  @Delete(':rid')
  @HttpCode(204)
  detachDevice(@Param() path: AttachmentPathDto, @Query() query: DetachQueryDto, @WriteMeta() meta: RequestMeta, @Res() res: FastifyReply): Promise<void> {
    const mdev = query.mdevId === undefined ? {} : { mdevId: query.mdevId };
    return this.commands.run(res, { type: 'DetachDevice', ...fdScope(meta.principal, path.fdId), ioasid: path.ioasid, rid: path.rid, ...mdev }, meta, 204);
  }
}
