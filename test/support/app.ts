import { mkdtemp, rm } from 'node:fs/promises';
import { after, before } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type StartedApp } from '../../src/app.factory';
import { loadConfig } from '../../src/config';
import { createLogger, type LineSink } from '../../src/observability/logger';
import { fetchOpenApi } from './openapi-lint';
import { ResponseValidator, type SeenResponse } from './openapi-responses';
import { createTestDatabase } from './postgres';

/** The operator token of every test app: tests know it instead of reading it from stdout. */
export const TEST_OPERATOR_TOKEN = 'test-operator-token-0123456789';

/** Where a test app keeps its data: a fresh PostgreSQL database or a fresh PGlite directory. */
export interface TestBackend {
  env: Record<string, string>;
  dispose(): Promise<void>;
}

export async function postgresBackend(): Promise<TestBackend> {
  const db = await createTestDatabase('ioasid_api');
  return { env: { DATABASE_URL: db.url }, dispose: () => db.drop() };
}

export async function pgliteBackend(): Promise<TestBackend> {
  const dir = await mkdtemp(join(tmpdir(), 'ioasid-api-'));
  return { env: { DATA_DIR: dir }, dispose: () => rm(dir, { recursive: true, force: true }) };
}

export interface TestApp {
  started: StartedApp;
  url: string;
  /** A client holding the operator token. */
  operator: ApiClient;
  close(): Promise<void>;
}

/**
 * Starts the whole service on free ports with `env` over the test defaults (quiet logs, known
 * operator token); `logOut` receives the log lines instead of stdout.
 */
export async function startTestApp(env: Record<string, string>, logOut?: LineSink): Promise<TestApp> {
  const config = loadConfig({ PORT: '0', GRPC_PORT: '0', OPERATOR_TOKEN: TEST_OPERATOR_TOKEN, LOG_LEVEL: 'error', ...env });
  const started = await startApp(config, logOut ? createLogger(config, logOut) : undefined);
  return { started, url: started.httpUrl, operator: new ApiClient(started.httpUrl, TEST_OPERATOR_TOKEN), close: () => started.close() };
}

export interface SuiteApp {
  readonly app: TestApp;
  readonly backend: TestBackend;
}

/**
 * One started app per suite (call inside `describe`): a fresh backend and app before the
 * suite's tests, both released after them. Hooks the suite adds later run after the start.
 * With `validateResponses`, every answer the operator's client (and the clients made from it
 * with `as`) receives is checked against the served OpenAPI document: an answer the document
 * does not describe fails the request.
 */
export function useTestApp(
  options: { backend?: () => Promise<TestBackend>; env?: Record<string, string>; logOut?: LineSink; validateResponses?: boolean } = {},
): SuiteApp {
  let backend: TestBackend | undefined;
  let app: TestApp | undefined;
  before(async () => {
    backend = await (options.backend ?? postgresBackend)();
    app = await startTestApp({ ...backend.env, ...options.env }, options.logOut);
    if (options.validateResponses) app.operator = app.operator.checkedBy(await documentCheck(app.url));
  });
  after(async () => {
    await app?.close();
    await backend?.dispose();
  });
  return {
    get app(): TestApp {
      if (!app) throw new Error('the suite app is not started yet');
      return app;
    },
    get backend(): TestBackend {
      if (!backend) throw new Error('the suite backend is not created yet');
      return backend;
    },
  };
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

/** Throws when an answer does not match the served OpenAPI document. */
export type ResponseCheck = (seen: SeenResponse) => void;

export async function documentCheck(baseUrl: string): Promise<ResponseCheck> {
  const validator = new ResponseValidator(await fetchOpenApi(baseUrl));
  return (seen) => {
    const problem = validator.problem(seen);
    if (problem) throw new Error(`the answer does not match the OpenAPI document: ${problem}`);
  };
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as it is (malformed JSON, other content types); overrides `body`. */
  rawBody?: string;
  headers?: Record<string, string>;
}

/** A REST client over Node's fetch, the way an orchestrator would call the API. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
    private readonly check?: ResponseCheck,
  ) {}

  /** The same server as another caller; undefined sends no Authorization header. */
  as(token: string | undefined): ApiClient {
    return new ApiClient(this.baseUrl, token, this.check);
  }

  /** This client, with every answer passed to `check` (and so are the clients made from it). */
  checkedBy(check: ResponseCheck): ApiClient {
    return new ApiClient(this.baseUrl, this.token, check);
  }

  async request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined = options.rawBody;
    if (body === undefined && options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    const contentType = res.headers.get('content-type') ?? '';
    const json = text !== '' && contentType.includes('json') ? JSON.parse(text) : undefined;
    this.check?.({ method, path, status: res.status, contentType, body: json ?? (text === '' ? undefined : text) });
    return { status: res.status, body: json as T, text, headers: res.headers };
  }

  get<T = any>(path: string, options?: RequestOptions): Promise<ApiResponse<T>> {
    return this.request<T>('GET', path, options);
  }
  post<T = any>(path: string, body?: unknown, options?: RequestOptions): Promise<ApiResponse<T>> {
    return this.request<T>('POST', path, { ...options, body });
  }
  put<T = any>(path: string, body?: unknown, options?: RequestOptions): Promise<ApiResponse<T>> {
    return this.request<T>('PUT', path, { ...options, body });
  }
  delete<T = any>(path: string, options?: RequestOptions): Promise<ApiResponse<T>> {
    return this.request<T>('DELETE', path, options);
  }
}

// ---- Fixtures: the objects most API tests start from, made through the API itself. ----

let sequence = 0;

/** A name no other test of this process uses (tenant names and host ids are unique). */
export function unique(prefix: string): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${sequence}`;
}

export interface TenantHandle {
  tenantId: string;
  name: string;
  token: string;
  client: ApiClient;
}

export async function createTenant(operator: ApiClient, quotas?: { maxFds?: number; maxHostPasids?: number }): Promise<TenantHandle> {
  const res = await operator.post('/v1/tenants', { name: unique('tenant'), ...(quotas ? { quotas } : {}) });
  expectStatus(res, 201);
  return { tenantId: res.body.tenantId, name: res.body.name, token: res.body.token, client: operator.as(res.body.token) };
}

export interface HostInput {
  hostId?: string;
  pasidBits?: number;
  enqcmd?: boolean;
  nestedPasidTable?: boolean;
  devices: Array<{ rid: string; kind: 'vf' | 'siov'; pasidBits?: number }>;
}

/** Registers a host (20-bit, ENQCMD and nested PASID table unless told otherwise); returns its id. */
export async function registerHost(operator: ApiClient, input: HostInput): Promise<string> {
  const hostId = input.hostId ?? unique('host');
  const res = await operator.post('/v1/hosts', {
    hostId,
    pasidBits: input.pasidBits ?? 20,
    enqcmd: input.enqcmd ?? true,
    nestedPasidTable: input.nestedPasidTable ?? true,
    devices: input.devices.map((d) => ({ rid: d.rid, kind: d.kind, pasidBits: d.pasidBits ?? input.pasidBits ?? 20 })),
  });
  expectStatus(res, 201);
  return hostId;
}

/** Opens an fd for a fresh VM (or `vmId`); returns its id. */
export async function createFd(client: ApiClient, hostId: string, vmId = unique('vm')): Promise<string> {
  const res = await client.post('/v1/fds', { hostId, vmId });
  expectStatus(res, 201);
  return res.body.fdId;
}

export function expectStatus(res: ApiResponse, status: number): void {
  if (res.status !== status) throw new Error(`expected HTTP ${status}, got ${res.status}: ${res.text}`);
}

/** An error answer of API.md: the status, the stable code, and the error body's shape. */
export function expectError(res: ApiResponse, status: number, code: string): void {
  expectStatus(res, status);
  const error = res.body?.error;
  if (!error || error.code !== code || typeof error.message !== 'string' || typeof error.details !== 'object') {
    throw new Error(`expected error ${code}, got ${res.text}`);
  }
}

/**
 * Reads until `done` holds: the hardware view is a projection, fed asynchronously after
 * the commit. Bounded in attempts, never in time asserted.
 */
export async function readUntil<R = ApiResponse>(read: () => Promise<R>, done: (res: R) => boolean, attempts = 400): Promise<R> {
  let last = await read();
  for (let i = 1; i < attempts && !done(last); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    last = await read();
  }
  return last;
}
