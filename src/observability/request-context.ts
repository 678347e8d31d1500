import type { ArgumentsHost } from '@nestjs/common';

/** What the log lines about one request carry, once it is known. */
export interface RequestContext {
  correlationId?: string;
  tenant?: string;
  host?: string;
  command?: string;
}

/**
 * Request contexts are explicit: one object per request, kept by what carries the request
 * (`callKey`) and by the command's meta, filled in as the guard and the handler learn more,
 * and written into the lines about the request (access lines, unexpected errors).
 *
 * Not AsyncLocalStorage, whose context follows every await: it then also follows the work a
 * request merely starts (a group-commit batch, the outbox relay, the projector), whose lines
 * carried the ids of whichever request happened to start it; and on Node 20 its first run()
 * turns on promise hooks for the whole process, a cost on every await of every request.
 */
const contexts = new WeakMap<object, RequestContext>();

/** Opens the context of the request that `carrier` stands for (see callKey). */
export function openRequestContext(carrier: object, initial: RequestContext): RequestContext {
  const context: RequestContext = {};
  copyDefined(initial, context);
  contexts.set(carrier, context);
  return context;
}

export function requestContextOf(carrier: object): RequestContext | undefined {
  return contexts.get(carrier);
}

/** Adds what became known (the tenant after auth, the host once resolved); a no-op without a context. */
export function addToContext(context: RequestContext | undefined, fields: RequestContext): void {
  if (context) copyDefined(fields, context);
}

/**
 * The object that stands for a call inside Nest: the request (REST) or the call's metadata
 * (gRPC), both of which live exactly as long as the call and are what the access logs see.
 */
export function callKey(host: ArgumentsHost): object {
  return host.getType() === 'rpc' ? host.switchToRpc().getContext<object>() : host.switchToHttp().getRequest<object>();
}

/** The context of the call a guard, pipe, decorator or filter is handling. */
export function contextOfCall(host: ArgumentsHost): RequestContext | undefined {
  return contexts.get(callKey(host));
}

const FIELDS = ['correlationId', 'tenant', 'host', 'command'] as const;

/** Copies the fields that hold a value (an absent or empty one changes nothing): every request does this a few times. */
function copyDefined(from: RequestContext, to: RequestContext): void {
  for (const key of FIELDS) {
    const value = from[key];
    if (value !== undefined && value !== '') to[key] = value;
  }
}
