export * from './values';
export * from './commands';
export * from './events';
export * from './errors';
export * from './envelope';
export * from './views';
export { canonicalJson } from './canonical-json';
export { redactForTenant } from './tenant-redaction';
export { timeOrderedUuid } from './time-ordered-uuid';
