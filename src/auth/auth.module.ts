import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './auth.guard';
import { PrincipalResolver } from './principal-resolver';

/** Installs the auth guard on every handler of the application, whatever the transport. */
@Module({
  providers: [PrincipalResolver, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [PrincipalResolver],
})
export class AuthModule {}
