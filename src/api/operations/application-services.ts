import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { HostCommandRunner } from '../../application/host-command-runner';
import { FdMigrator } from '../../application/migration/fd-migrator';
import { TenantCreator } from '../../application/tenant-creator';
import type { OperationServices } from './operation';

/** The application services the operations run on, injected once for both transports. */
@Injectable()
export class ApplicationServices implements OperationServices {
  constructor(
    readonly hostCommands: HostCommandRunner,
    readonly tenants: TenantCreator,
    readonly migrations: FdMigrator,
    readonly queries: QueryBus,
  ) {}
}
