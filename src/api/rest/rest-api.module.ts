import { Module } from '@nestjs/common';
import { AttachmentsController } from './attachments.controller';
import { CommandSender } from './command-sender';
import { EventsController } from './events.controller';
import { EventsWatchController } from './events-watch.controller';
import { FdsController } from './fds.controller';
import { HostsController } from './hosts.controller';
import { IoasidsController } from './ioasids.controller';
import { KvmMappingsController } from './kvm-mappings.controller';
import { MigrationsController } from './migrations.controller';
import { TenantsController } from './tenants.controller';

/** The /v1 REST routes of API.md. */
@Module({
  controllers: [
    TenantsController,
    HostsController,
    FdsController,
    IoasidsController,
    AttachmentsController,
    KvmMappingsController,
    MigrationsController,
    EventsController,
    EventsWatchController,
  ],
  providers: [CommandSender],
  exports: [CommandSender],
})
export class RestApiModule {}
