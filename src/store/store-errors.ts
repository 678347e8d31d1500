import { DomainError, isDomainError } from '../model/errors';

/** SQLSTATE classes and codes that mean "the database is not there right now", not "the request is wrong". */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '3D000']);
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);
const UNAVAILABLE_MESSAGES = [
  /connection terminated/i,
  /connection (?:was )?closed/i,
  /not queryable/i,
  /cannot use a pool after calling end/i,
  /timeout exceeded when trying to connect/i,
  /driver not connected/i,
  /connection is not established/i,
  /query runner already released/i,
  /socket (?:has been )?(?:ended|closed)/i,
  // pg's query_timeout (database.ts): the database stopped answering mid-query.
  /query read timeout/i,
];

/** SQLSTATE of a PostgreSQL error, whether raw from `pg` or wrapped by TypeORM's QueryFailedError. */
export function sqlState(e: unknown): string | undefined {
  const err = e as { code?: unknown; driverError?: { code?: unknown } };
  const code = err?.driverError?.code ?? err?.code;
  return typeof code === 'string' ? code : undefined;
}

export const UNIQUE_VIOLATION = '23505';
export const DEADLOCK_DETECTED = '40P01';
export const SERIALIZATION_FAILURE = '40001';

export function isUnavailable(e: unknown): boolean {
  if (isDomainError(e)) return e.code === 'UNAVAILABLE';
  const code = sqlState(e);
  if (code && (UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08') || UNAVAILABLE_ERRNOS.has(code))) return true;
  const message = e instanceof Error ? e.message : String(e);
  return UNAVAILABLE_MESSAGES.some((re) => re.test(message));
}

/**
 * The one place where storage failures become API errors: a lost or refused connection is
 * UNAVAILABLE (503, retry); a DomainError passes through; anything else is a bug and stays as it is.
 */
export function toStoreError(e: unknown): unknown {
  if (isDomainError(e)) return e;
  if (isUnavailable(e)) {
    return new DomainError('UNAVAILABLE', 'the event store is unavailable; retry later', {
      cause: e instanceof Error ? e.message : String(e),
    });
  }
  return e;
}

/** Runs a storage call and maps its failure with toStoreError. */
export async function storeCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toStoreError(e);
  }
}
