export * from './views';
export { initialHostState } from './state';
export type { HostState, FdState, IoasidState, AttachmentState, TenantUsage } from './state';
export { decide } from './decide';
export type { DecideContext } from './decide';
export { evolve, evolveAll } from './evolve';
export { serializeHostState, deserializeHostState } from './snapshot';
export type { HostStateSnapshot } from './snapshot';
