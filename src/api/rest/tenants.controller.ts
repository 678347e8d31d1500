import { Body, Controller, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CreateTenantCommand } from '../../application/messages';
import type { CommandResponse, RequestMeta } from '../../application/request-meta';
import { OperatorOnly } from '../../auth/access.decorators';
import { CreateTenantDto } from '../dto/tenant.dto';
import { sendResponse } from './command-sender';
import { WriteMeta } from './write-meta.decorator';

@ApiTags('tenants')
@ApiBearerAuth()
@Controller('v1/tenants')
export class TenantsController {
  constructor(private readonly commandBus: CommandBus) {}

  /** 201 {tenantId, name, quotas, token}: the only time the token is shown. */
  @Post()
  @OperatorOnly()
  async createTenant(@Body() dto: CreateTenantDto, @WriteMeta() meta: RequestMeta, @Res() res: FastifyReply): Promise<void> {
    const response = await this.commandBus.execute<CreateTenantCommand, CommandResponse>(new CreateTenantCommand(dto.name, dto.quotas, meta));
    sendResponse(res, response);
  }
}
