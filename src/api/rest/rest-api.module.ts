import { Module } from '@nestjs/common';
import { OperationsModule } from '../operations/operations.module';
import { OPERATIONS } from '../operations/operation-table';
import { restController } from './operation-routes';

/** The /v1 REST routes of docs/API.md: the operation table's rows. */
@Module({
  imports: [OperationsModule],
  controllers: [restController(OPERATIONS)],
})
export class RestApiModule {}
