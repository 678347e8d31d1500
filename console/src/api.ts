import { currentToken } from './session';
import type { EventEnvelope, EventPage, FdView, HardwareView, HostView, MigrationRecord, VerifyResult, WhoAmIView } from './types';

/** An error answer of the API (docs/API.md): its status, stable code and message, shown as they are. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Query = Record<string, string | number | undefined>;

function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** GET on the API of this origin with the tab's token. */
export async function apiGet<T>(path: string, query?: Query, token: string | null = currentToken()): Promise<T> {
  const res = await fetch(withQuery(path, query), {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    cache: 'no-store',
  });
  const body: unknown = res.headers.get('content-type')?.includes('json') ? await res.json() : undefined;
  if (!res.ok) {
    const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, error?.code ?? `HTTP_${res.status}`, error?.message ?? res.statusText);
  }
  return body as T;
}

/** Every item of a listing, following nextPageToken while the server pages it. */
export async function listAll<T>(path: string, key: string, query: Query = {}): Promise<T[]> {
  const items: T[] = [];
  let pageToken: string | undefined;
  do {
    const page = await apiGet<Record<string, unknown> & { nextPageToken?: string }>(path, { ...query, pageToken });
    items.push(...(page[key] as T[]));
    pageToken = page.nextPageToken;
  } while (pageToken);
  return items;
}

export const api = {
  /** Who `token` belongs to (the tab's token unless another is being checked). */
  whoami: (token?: string) => apiGet<WhoAmIView>('/v1/whoami', undefined, token),
  /** A page of hosts: the server pages with pageSize/pageToken where it supports them (answering nextPageToken). */
  hosts: (query: { pageSize: number; pageToken?: string }) => apiGet<{ hosts: HostView[]; nextPageToken?: string }>('/v1/hosts', query),
  host: (hostId: string) => apiGet<HostView>(`/v1/hosts/${encodeURIComponent(hostId)}`),
  hardware: (hostId: string, version?: number) => apiGet<HardwareView>(`/v1/hosts/${encodeURIComponent(hostId)}/hardware`, { version }),
  verify: (hostId: string) => apiGet<VerifyResult>(`/v1/hosts/${encodeURIComponent(hostId)}/verify`),
  events: (query: { hostId?: string; fdId?: string; type?: string; afterVersion?: number; pageSize?: number; pageToken?: string }) =>
    apiGet<EventPage>('/v1/events', query),
  allEvents: (query: { hostId?: string; fdId?: string; type?: string }) => listAll<EventEnvelope>('/v1/events', 'events', { ...query, pageSize: 1000 }),
  fds: () => listAll<FdView>('/v1/fds', 'fds'),
  fd: (fdId: string) => apiGet<FdView>(`/v1/fds/${encodeURIComponent(fdId)}`),
  migration: (migrationId: string) => apiGet<MigrationRecord>(`/v1/migrations/${encodeURIComponent(migrationId)}`),
};
