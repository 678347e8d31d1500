import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { ApiExceptionFilter } from './api/errors/api-exception.filter';
import { GrpcApiModule } from './api/grpc/grpc-api.module';
import { OpsModule } from './api/rest/ops.module';
import { RestApiModule } from './api/rest/rest-api.module';
import { createValidationPipe } from './api/validation/validation.pipe';
import { ApplicationModule } from './application/application.module';
import { MigrationModule } from './application/migration/migration.module';
import { AuthModule } from './auth/auth.module';
import { APP_CONFIG, type AppConfig } from './config';
import { MessagingModule } from './messaging/messaging.module';
import { ProjectionsModule } from './projections/projections.module';
import { StoreModule } from './store/store.module';

/** The parsed configuration, visible to every module (the store opens the database from it). */
@Module({})
class AppConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: AppConfigModule, global: true, providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] };
  }
}

/**
 * The whole service. ROLE decides what runs here: `api` serves the routes without the
 * projector, `projector` runs the projector behind the probes only, `all` does both.
 * Validation, error mapping and auth are installed once for every transport.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    const projections = ProjectionsModule.forRoot(config);
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        CqrsModule.forRoot(),
        StoreModule,
        ApplicationModule,
        MessagingModule,
        projections,
        AuthModule,
        OpsModule.register(projections),
        ...(config.role === 'projector' ? [] : [RestApiModule, GrpcApiModule, MigrationModule]),
      ],
      providers: [
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
      ],
    };
  }
}
