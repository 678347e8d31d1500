/**
 * Every REST route of API.md, as data: the hostile-input and isolation suites walk all of them,
 * so a route added to the API without being added here shows up in `assertCatalogueComplete`.
 */
export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path with `:param` placeholders. */
  template: string;
  operatorOnly: boolean;
  /** A body the route accepts when its ids are right (hostile cases start from it). */
  body?: Record<string, unknown>;
  /** Query parameters it knows. */
  query?: string[];
}

export const ROUTES: RouteSpec[] = [
  { method: 'POST', template: '/v1/tenants', operatorOnly: true, body: { name: 't', quotas: { maxFds: 4, maxHostPasids: 16 } } },
  { method: 'GET', template: '/v1/whoami', operatorOnly: false },
  {
    method: 'POST',
    template: '/v1/hosts',
    operatorOnly: true,
    body: { hostId: 'h', pasidBits: 20, enqcmd: true, nestedPasidTable: true, devices: [{ rid: '0000:3b:00.1', kind: 'vf', pasidBits: 20 }] },
  },
  { method: 'GET', template: '/v1/hosts', operatorOnly: false, query: ['pageSize', 'pageToken'] },
  { method: 'GET', template: '/v1/hosts/:hostId', operatorOnly: false },
  { method: 'GET', template: '/v1/hosts/:hostId/hardware', operatorOnly: true, query: ['version'] },
  { method: 'GET', template: '/v1/hosts/:hostId/verify', operatorOnly: true },
  { method: 'POST', template: '/v1/fds', operatorOnly: false, body: { hostId: 'h', vmId: 'vm' } },
  { method: 'GET', template: '/v1/fds', operatorOnly: false, query: ['hostId', 'pageSize', 'pageToken'] },
  { method: 'GET', template: '/v1/fds/:fdId', operatorOnly: false },
  { method: 'DELETE', template: '/v1/fds/:fdId', operatorOnly: false },
  { method: 'PUT', template: '/v1/fds/:fdId/hwid-mode', operatorOnly: false, body: { mode: 'global' } },
  { method: 'PUT', template: '/v1/fds/:fdId/global-min', operatorOnly: false, body: { globalMin: 64 } },
  { method: 'POST', template: '/v1/fds/:fdId/ioasids', operatorOnly: false },
  { method: 'DELETE', template: '/v1/fds/:fdId/ioasids/:ioasid', operatorOnly: false },
  { method: 'PUT', template: '/v1/fds/:fdId/ioasids/:ioasid/pasid-table', operatorOnly: false, body: { gpa: '0x1000' } },
  { method: 'PUT', template: '/v1/fds/:fdId/ioasids/:ioasid/hwid', operatorOnly: false, body: { pasid: 5 } },
  { method: 'GET', template: '/v1/fds/:fdId/ioasids/:ioasid/hwid', operatorOnly: false },
  { method: 'PUT', template: '/v1/fds/:fdId/ioasids/:ioasid/pgtable', operatorOnly: false, body: { gpa: '0x200000' } },
  { method: 'DELETE', template: '/v1/fds/:fdId/ioasids/:ioasid/pgtable', operatorOnly: false },
  { method: 'POST', template: '/v1/fds/:fdId/ioasids/:ioasid/attachments', operatorOnly: false, body: { rid: '0000:3b:00.1', enqcmd: false } },
  { method: 'DELETE', template: '/v1/fds/:fdId/ioasids/:ioasid/attachments/:rid', operatorOnly: false, query: ['mdevId'] },
  { method: 'PUT', template: '/v1/fds/:fdId/kvm-pasid-mappings/:guestPasid', operatorOnly: false, body: { hostPasid: 1024 } },
  { method: 'DELETE', template: '/v1/fds/:fdId/kvm-pasid-mappings/:guestPasid', operatorOnly: false },
  { method: 'POST', template: '/v1/fds/:fdId/migrations', operatorOnly: false, body: { targetHostId: 'h2', deviceMap: { '0000:3b:00.1': '0000:3b:00.1' } } },
  { method: 'GET', template: '/v1/migrations/:migrationId', operatorOnly: false },
  { method: 'GET', template: '/v1/events', operatorOnly: false, query: ['hostId', 'fdId', 'type', 'afterVersion', 'pageSize', 'pageToken'] },
  // The host lifecycle last: removing a device, cordoning or decommissioning a host changes what the routes before it can reach.
  { method: 'POST', template: '/v1/hosts/:hostId/devices', operatorOnly: true, body: { rid: '0000:3b:00.3', kind: 'vf', pasidBits: 20 } },
  { method: 'DELETE', template: '/v1/hosts/:hostId/devices/:rid', operatorOnly: true },
  { method: 'POST', template: '/v1/hosts/:hostId/cordon', operatorOnly: true },
  { method: 'POST', template: '/v1/hosts/:hostId/uncordon', operatorOnly: true },
  { method: 'DELETE', template: '/v1/hosts/:hostId', operatorOnly: true },
];

/**
 * Routes that answer a stream that never ends on its own (the watch): the hostile and
 * isolation suites read whole answers, so these are left to their own suites
 * (test/watch/: refusals, tenancy, cursors, slow readers, shutdown).
 */
export const STREAMING_ROUTES = ['GET /v1/events/watch'];

/** The path of a route with its parameters filled in (already encoded by the caller). */
export function pathOf(route: RouteSpec, params: Record<string, string>): string {
  return route.template.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for :${name} of ${route.template}`);
    return value;
  });
}

export function paramsOf(route: RouteSpec): string[] {
  return [...route.template.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]);
}

/**
 * The /v1 operations of the server's OpenAPI document (`/docs-json`) that this catalogue lacks:
 * a route added to the API must join the reliability suites.
 */
export function missingFromCatalogue(openapi: { paths: Record<string, Record<string, unknown>> }): string[] {
  const known = new Set([...ROUTES.map((r) => `${r.method} ${r.template}`), ...STREAMING_ROUTES]);
  const served = Object.entries(openapi.paths)
    .filter(([path]) => path.startsWith('/v1'))
    .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path.replace(/\{([A-Za-z]+)\}/g, ':$1')}`));
  return served.filter((r) => !known.has(r));
}
