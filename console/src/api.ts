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

function request(path: string, query: Query | undefined, token: string | null, init: { headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Response> {
  return fetch(withQuery(path, query), {
    headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...init.headers },
    cache: 'no-store',
    signal: init.signal,
  });
}

async function failureOf(res: Response): Promise<ApiError> {
  const body: unknown = res.headers.get('content-type')?.includes('json') ? await res.json() : undefined;
  const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  return new ApiError(res.status, error?.code ?? `HTTP_${res.status}`, error?.message ?? res.statusText);
}

/** GET on the API of this origin with the tab's token. */
export async function apiGet<T>(path: string, query?: Query, token: string | null = currentToken()): Promise<T> {
  const res = await request(path, query, token);
  if (!res.ok) throw await failureOf(res);
  return (res.headers.get('content-type')?.includes('json') ? await res.json() : undefined) as T;
}

/**
 * Opens GET /v1/events/watch with the tab's token (an EventSource could not send it) and answers
 * the text/event-stream body, after the cursor `lastEventId` when given; refusals throw ApiError.
 */
export async function openWatch(query: { hostId: string; afterVersion?: number }, lastEventId: string | undefined, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
  const headers: Record<string, string> = { accept: 'text/event-stream', ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }) };
  const res = await request('/v1/events/watch', query, currentToken(), { headers, signal });
  if (!res.ok || !res.body) throw await failureOf(res);
  return res.body;
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
