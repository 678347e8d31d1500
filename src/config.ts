import { randomBytes } from 'node:crypto';

/** What this process does (issue: roles): the API, the projector, or both. */
export type Role = 'all' | 'api' | 'projector';

/** Log severities, most severe first; a level lets through itself and everything before it. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'verbose'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The environment of API.md "Running it", parsed once at start. */
export interface AppConfig {
  port: number;
  grpcPort: number;
  /** Unset: embedded PGlite in dataDir. */
  databaseUrl?: string;
  dataDir: string;
  /**
   * DATABASE_POOL_SIZE: connections this process opens to real PostgreSQL, at most; optional
   * (DEFAULT_DATABASE_POOL_SIZE). The embedded database always has one.
   */
  databasePoolSize?: number;
  /** Unset: events go to in-process consumers only. */
  kafkaBrokers?: string[];
  kafkaTopic: string;
  /** KAFKA_GROUP_ID: the projectors' consumer group; optional (ioasid-projector). */
  kafkaGroupId?: string;
  /**
   * KAFKA_SESSION_TIMEOUT_MS: how long the group waits for a silent projector before giving its
   * partitions to the others (heartbeats go every third of it); optional (kafkajs: 30000).
   */
  kafkaSessionTimeoutMs?: number;
  operatorToken: string;
  /** True when the operator token was generated at start (and must be printed). */
  operatorTokenGenerated: boolean;
  role: Role;
  /** Run pending migrations at start (default); false when a separate migration job does it. */
  runMigrations: boolean;
  /** LOG_LEVEL: the least severe level written; optional so hand-built configs stay valid (info). */
  logLevel?: LogLevel;
  /** SNAPSHOT_EVERY: a host's decider state is snapshotted every this many events; optional (1000). */
  snapshotEvery?: number;
  /**
   * MIGRATION_STALE_MS: a migration still running after this long is taken for orphaned (its
   * process died) and is finished or rolled back by any API process; younger ones may belong
   * to a live replica and are left alone. Optional (60000); 0 settles every orphan at once.
   */
  migrationStaleMs?: number;
  /**
   * HOST_CACHE_MB: what this process may keep of hosts in memory (decider states, fd locations,
   * tenants' quotas, projected hardware), by an estimate of each entry's size; the least recently
   * used is evicted and reloaded from the store when next needed. Optional (DEFAULT_HOST_CACHE_MB).
   */
  hostCacheMb?: number;
}

/**
 * Leaves a process with the default cache under 512 MB of RSS (about 150 MB without hosts, and
 * the heap of the hosts held plus the garbage the collector has not taken yet). Every full
 * collection marks the hosts held: a larger cache makes a large fleet's cold loads and commands
 * pay more collection than its hits save (docs/ARCHITECTURE.md "Hosts in memory", "Why 64 MB").
 */
export const DEFAULT_HOST_CACHE_MB = 64;

export const APP_CONFIG = Symbol('APP_CONFIG');

/** Connections per process to real PostgreSQL when DATABASE_POOL_SIZE is unset (deploy/README.md: the arithmetic). */
export const DEFAULT_DATABASE_POOL_SIZE = 10;

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const generated = !env.OPERATOR_TOKEN;
  return {
    port: port(env, 'PORT', 8080),
    grpcPort: port(env, 'GRPC_PORT', 50051),
    databaseUrl: nonEmpty(env.DATABASE_URL),
    dataDir: nonEmpty(env.DATA_DIR) ?? './data',
    databasePoolSize: positiveInt(env, 'DATABASE_POOL_SIZE', DEFAULT_DATABASE_POOL_SIZE),
    kafkaBrokers: nonEmpty(env.KAFKA_BROKERS)
      ?.split(',')
      .map((b) => b.trim())
      .filter(Boolean),
    kafkaTopic: nonEmpty(env.KAFKA_TOPIC) ?? 'ioasid.events',
    kafkaGroupId: nonEmpty(env.KAFKA_GROUP_ID),
    kafkaSessionTimeoutMs: optionalPositiveInt(env, 'KAFKA_SESSION_TIMEOUT_MS'),
    operatorToken: env.OPERATOR_TOKEN || `op_${randomBytes(24).toString('base64url')}`,
    operatorTokenGenerated: generated,
    role: role(env.ROLE),
    runMigrations: env.RUN_MIGRATIONS !== 'false',
    logLevel: logLevel(env.LOG_LEVEL),
    snapshotEvery: positiveInt(env, 'SNAPSHOT_EVERY', 1000),
    migrationStaleMs: wholeNumber(env, 'MIGRATION_STALE_MS', 60_000),
    hostCacheMb: positiveInt(env, 'HOST_CACHE_MB', DEFAULT_HOST_CACHE_MB),
  };
}

/**
 * The bytes of HOST_CACHE_MB one cache may use. A process with both roles holds decider
 * states and projected hardware: each side gets half, so the process stays within the bound.
 */
export function hostCacheBytes(config: Partial<Pick<AppConfig, 'hostCacheMb' | 'role'>>, cache: HostCache): number {
  const mb = config.hostCacheMb ?? DEFAULT_HOST_CACHE_MB;
  const side = (config.role === 'all' ? mb / 2 : mb) * 1024 * 1024;
  return Math.floor(side * HOST_CACHE_SHARES[cache]);
}

/** The caches of HOST_CACHE_MB, and their share of their process side's half (API or projector). */
export type HostCache = 'decider states' | 'fd locations' | 'tenant quotas' | 'projected hardware';
const HOST_CACHE_SHARES: Record<HostCache, number> = { 'decider states': 15 / 16, 'fd locations': 3 / 64, 'tenant quotas': 1 / 64, 'projected hardware': 1 };

function nonEmpty(v: string | undefined): string | undefined {
  return v && v.trim() !== '' ? v.trim() : undefined;
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  // 0 asks the OS for a free port (tests).
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`${name} must be a port number, got "${raw}"`);
  return n;
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  return n;
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  return optionalPositiveInt(env, name) ?? fallback;
}

function optionalPositiveInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

function role(raw: string | undefined): Role {
  const r = nonEmpty(raw) ?? 'all';
  if (r !== 'all' && r !== 'api' && r !== 'projector') throw new ConfigError(`ROLE must be all, api or projector, got "${r}"`);
  return r;
}

function logLevel(raw: string | undefined): LogLevel {
  const l = nonEmpty(raw)?.toLowerCase() ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(l)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${l}"`);
  return l as LogLevel;
}
