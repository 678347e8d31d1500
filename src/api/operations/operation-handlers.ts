import { applyDecorators, Controller, Inject, type Type } from '@nestjs/common';
import type { Principal } from '../../application/principal';
import type { RequestMeta } from '../../application/request-meta';
import { ApplicationServices } from './application-services';
import type { Answer, Operation, OperationServices } from './operation';

/**
 * A controller with one handler per operation, added by the transport's `addHandlerOf`; its
 * instances hold the application services the operations run on (`this.services`).
 */
export function operationsController(
  name: string,
  operations: readonly Operation[],
  decorators: ClassDecorator[],
  addHandlerOf: (controller: Type, op: Operation) => void,
): Type {
  class OperationsController {
    constructor(@Inject(ApplicationServices) readonly services: ApplicationServices) {}
  }
  // Named for Nest's logs and errors, which name controllers by their class.
  Object.defineProperty(OperationsController, 'name', { value: name });
  applyDecorators(...decorators, Controller())(OperationsController);
  for (const op of operations) addHandlerOf(OperationsController, op);
  return OperationsController;
}

/** One parameter of a generated handler: its Nest decorator and the class the validation pipe (and OpenAPI) reads. */
export type HandlerParameter = [ParameterDecorator, Type | ObjectConstructor];

/**
 * Adds `handler` to `controller` as the method named `name`, its parameters decorated and typed
 * as Nest reads a written method's (`design:paramtypes` is what the validation pipe validates
 * against); returns the method's descriptor, for the method decorators.
 */
export function addHandler(controller: Type, name: string, handler: (...args: any[]) => Promise<unknown>, parameters: HandlerParameter[]): PropertyDescriptor {
  const proto = controller.prototype as Record<string, unknown>;
  Object.defineProperty(handler, 'name', { value: name });
  proto[name] = handler;
  parameters.forEach(([decorate], index) => decorate(proto, name, index));
  Reflect.defineMetadata('design:paramtypes', parameters.map(([, type]) => type), proto, name);
  return Object.getOwnPropertyDescriptor(proto, name)!;
}

/** Runs a write or read `op` on `input` with what its adapter resolved for the call: a write's RequestMeta, or a read's caller. */
export function runOperation(op: Operation, input: unknown, call: RequestMeta | Principal, services: OperationServices): Promise<Answer> {
  const execution = op.execution;
  switch (execution.kind) {
    case 'write':
      return execution.run(input, call as RequestMeta, services);
    case 'read':
      return execution.run(input, call as Principal, services);
    case 'stream':
      throw new Error(`${op.id} is a stream: its adapter opens it`);
    default: {
      const _: never = execution;
      return _;
    }
  }
}
