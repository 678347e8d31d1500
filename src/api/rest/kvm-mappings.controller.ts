import { Body, Controller, Delete, HttpCode, Param, Put, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { RequestMeta } from '../../application/request-meta';
import { KvmPasidMappingDto } from '../dto/ioasid.dto';
import { KvmMappingPathDto } from '../dto/path.dto';
import { CommandSender } from './command-sender';
import { fdScope } from './fd-scope';
import { WriteMeta } from './write-meta.decorator';

/** The VM's CPU PASID translation (KVM_MAP_PASID): guest PASID -> a global PASID this fd holds. */
@ApiTags('kvm-pasid-mappings')
@ApiBearerAuth()
@Controller('v1/fds/:fdId/kvm-pasid-mappings')
export class KvmMappingsController {
  constructor(private readonly commands: CommandSender) {}

  @Put(':guestPasid')
  setKvmPasidMapping(@Param() path: KvmMappingPathDto, @Body() dto: KvmPasidMappingDto, @WriteMeta() meta: RequestMeta, @Res() res: FastifyReply): Promise<void> {
    const command = { type: 'SetKvmPasidMapping' as const, ...fdScope(meta.principal, path.fdId), guestPasid: path.guestPasid, hostPasid: dto.hostPasid };
    return this.commands.run(res, command, meta, 200);
  }

  @Delete(':guestPasid')
  @HttpCode(204)
  unsetKvmPasidMapping(@Param() path: KvmMappingPathDto, @WriteMeta() meta: RequestMeta, @Res() res: FastifyReply): Promise<void> {
    return this.commands.run(res, { type: 'UnsetKvmPasidMapping', ...fdScope(meta.principal, path.fdId), guestPasid: path.guestPasid }, meta, 204);
  }
}
