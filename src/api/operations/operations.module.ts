import { Module } from '@nestjs/common';
import { ApplicationModule } from '../../application/application.module';
import { MigrationModule } from '../../application/migration/migration.module';
import { ApplicationServices } from './application-services';

/** What the REST and gRPC adapters share to run the operation table. */
@Module({
  imports: [ApplicationModule, MigrationModule],
  providers: [ApplicationServices],
  exports: [ApplicationServices],
})
export class OperationsModule {}
