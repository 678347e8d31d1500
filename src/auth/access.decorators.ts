import { SetMetadata } from '@nestjs/common';

export const ACCESS_KEY = 'ioasid:access';

/** Who may call a handler: anyone (probes, metrics), or the operator only. Unmarked handlers take any valid token. */
export type Access = 'public' | 'operator';

/** No token needed: liveness, readiness and metrics probes. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(ACCESS_KEY, 'public' satisfies Access);

/** The operator's routes (tenants, hosts, hardware, verify): a tenant token gets FORBIDDEN. */
export const OperatorOnly = (): MethodDecorator & ClassDecorator => SetMetadata(ACCESS_KEY, 'operator' satisfies Access);
