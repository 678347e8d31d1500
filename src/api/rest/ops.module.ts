import { Module, type DynamicModule } from '@nestjs/common';
import { OpsController } from './ops.controller';

/** The probes and metrics; `projections` is the app's ProjectionsModule, which provides ReadinessService. */
@Module({})
export class OpsModule {
  static register(projections: DynamicModule): DynamicModule {
    return { module: OpsModule, imports: [projections], controllers: [OpsController] };
  }
}
