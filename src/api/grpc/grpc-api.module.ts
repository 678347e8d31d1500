import { Module } from '@nestjs/common';
import { OperationsModule } from '../operations/operations.module';
import { OPERATIONS } from '../operations/operation-table';
import { grpcController } from './grpc-operations';

/** The ioasid.v1 handlers, the operation table's rows; served once `connectGrpc` has attached the gRPC transport. */
@Module({
  imports: [OperationsModule],
  controllers: [grpcController(OPERATIONS)],
})
export class GrpcApiModule {}
