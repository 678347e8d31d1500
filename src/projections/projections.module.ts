import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '../config';
import { MessagingModule } from '../messaging/messaging.module';
import { HardwareProjector } from './hardware.projector';
import { ReadinessService } from './readiness.service';

/**
 * The hardware projector fed by the transport, and readiness; needs StoreModule (global) and
 * APP_CONFIG. An API-only process (ROLE=api) gets no projector: projector processes do that work.
 * (Dynamic only: Nest adds @Module metadata to a dynamic module's, so the decorator stays empty.)
 */
@Module({})
export class ProjectionsModule {
  static forRoot(config: AppConfig): DynamicModule {
    const projector = config.role === 'api' ? [] : [HardwareProjector];
    return {
      module: ProjectionsModule,
      imports: [MessagingModule],
      providers: [...projector, ReadinessService],
      exports: [...projector, ReadinessService],
    };
  }
}
