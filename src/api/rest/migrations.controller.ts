import { Body, Controller, Get, Param, Post, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { GetMigrationQuery, MigrateFdCommand } from '../../application/migration/messages';
import type { Principal } from '../../application/principal';
import type { CommandResponse, RequestMeta } from '../../application/request-meta';
import { CurrentPrincipal } from '../../auth/current-principal.decorator';
import { MigrateFdDto, MigrationPathDto } from '../dto/migration.dto';
import { FdPathDto } from '../dto/path.dto';
import { sendResponse } from './command-sender';
import { WriteMeta } from './write-meta.decorator';

/** Live migration of an fd between hosts (DOMAIN.md operation 12), all or nothing. */
@ApiTags('migrations')
@ApiBearerAuth()
@Controller('v1')
export class MigrationsController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  @Post('fds/:fdId/migrations')
  async migrateFd(@Param() path: FdPathDto, @Body() dto: MigrateFdDto, @WriteMeta() meta: RequestMeta, @Res() res: FastifyReply): Promise<void> {
    const response = await this.commandBus.execute<MigrateFdCommand, CommandResponse>(
      new MigrateFdCommand(path.fdId, dto.targetHostId, dto.deviceMap, meta),
    );
    sendResponse(res, response);
  }

  @Get('migrations/:migrationId')
  getMigration(@Param() path: MigrationPathDto, @CurrentPrincipal() principal: Principal): Promise<unknown> {
    return this.queryBus.execute(new GetMigrationQuery(principal, path.migrationId));
  }
}
