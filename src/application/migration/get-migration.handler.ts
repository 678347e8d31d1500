import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { DomainError } from '../../model/errors';
import { tenantScopeOf } from '../principal';
import { GetMigrationQuery } from './messages';
import type { MigrationRecord } from '../../model/views';
import { MigrationRecords } from './migration-records';

@QueryHandler(GetMigrationQuery)
export class GetMigrationHandler implements IQueryHandler<GetMigrationQuery, MigrationRecord> {
  constructor(private readonly records: MigrationRecords) {}

  async execute(query: GetMigrationQuery): Promise<MigrationRecord> {
    const found = await this.records.find(query.migrationId);
    const scope = tenantScopeOf(query.principal);
    if (!found || (scope !== undefined && found.tenantId !== scope)) {
      throw new DomainError('NOT_FOUND', `migration ${query.migrationId} not found`, { migrationId: query.migrationId });
    }
    const { tenantId: _owner, ...record } = found;
    return record;
  }
}
