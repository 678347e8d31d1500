import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Metadata } from '@grpc/grpc-js';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../model/errors';
import { addToContext, contextOfCall } from '../observability/request-context';
import { ACCESS_KEY, type Access } from './access.decorators';
import { bearerToken } from './bearer-token';
import { attachPrincipal } from './principal-context';
import { PrincipalResolver } from './principal-resolver';

/**
 * The one authentication and authorization check of REST and gRPC: every handler needs a
 * valid bearer token unless marked @Public(); @OperatorOnly() handlers refuse tenants.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly resolver: PrincipalResolver,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = this.reflector.getAllAndOverride<Access | undefined>(ACCESS_KEY, [context.getHandler(), context.getClass()]);
    if (access === 'public') return true;

    const token = bearerToken(authorizationOf(context));
    const principal = token === undefined ? undefined : await this.resolver.resolve(token);
    if (!principal) throw new DomainError('UNAUTHENTICATED', 'a valid bearer token is required');
    addToContext(contextOfCall(context), { tenant: principal.kind === 'tenant' ? principal.tenantId : 'operator' });
    if (access === 'operator' && principal.kind !== 'operator') throw new DomainError('FORBIDDEN', 'this operation is reserved to the operator');

    attachPrincipal(context, principal);
    return true;
  }
}

function authorizationOf(context: ExecutionContext): unknown {
  if (context.getType() === 'rpc') return context.switchToRpc().getContext<Metadata>().get('authorization');
  return context.switchToHttp().getRequest<FastifyRequest>().headers.authorization;
}
