import { Module } from '@nestjs/common';
import { IoasidGrpcController } from './ioasid-grpc.controller';
import { WatchEventsGrpcController } from './watch-events.grpc-controller';

/** The ioasid.v1 handlers; served once `connectGrpc` has attached the gRPC transport. */
@Module({ controllers: [IoasidGrpcController, WatchEventsGrpcController] })
export class GrpcApiModule {}
