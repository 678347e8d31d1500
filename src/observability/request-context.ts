import { AsyncLocalStorage } from 'node:async_hooks';

/** What every log line written while serving one request carries, once it is known. */
export interface RequestContext {
  correlationId?: string;
  tenant?: string;
  host?: string;
  command?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/**
 * Runs `fn` inside a fresh context. The context object is shared by everything `fn`
 * awaits, so what a guard or handler adds later (tenant, host) is also seen by the
 * access log written when the response finishes.
 */
export function runWithContext<T>(initial: RequestContext, fn: () => T): T {
  return storage.run(definedOnly(initial), fn);
}

/**
 * The context of one HTTP request, by its request object: opened when the request arrives,
 * entered (runInContext) once its body is read, because the body's stream events would
 * otherwise run outside it; the access log reads it when the response is done.
 */
const byRequest = new WeakMap<object, RequestContext>();

export function openRequestContext(request: object, initial: RequestContext): RequestContext {
  const context = definedOnly(initial);
  byRequest.set(request, context);
  return context;
}

export function requestContextOf(request: object): RequestContext | undefined {
  return byRequest.get(request);
}

/** Runs `fn` inside an existing context object (what it awaits shares it too). */
export function runInContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** Adds what became known (the tenant after auth, the host once resolved); a no-op outside a request. */
export function setContext(fields: RequestContext): void {
  const current = storage.getStore();
  if (current) Object.assign(current, definedOnly(fields));
}

/** The live context of the current request, or undefined outside one. */
export function currentContext(): Readonly<RequestContext> | undefined {
  return storage.getStore();
}

function definedOnly(fields: RequestContext): RequestContext {
  const out: RequestContext = {};
  for (const key of ['correlationId', 'tenant', 'host', 'command'] as const) {
    const value = fields[key];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}
