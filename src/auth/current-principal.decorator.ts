import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Principal } from '../application/principal';
import { principalOf } from './principal-context';

/** The caller the auth guard authenticated, on REST and gRPC handlers alike. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => principalOf(context));
