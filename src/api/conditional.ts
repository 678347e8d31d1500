import { MAX_INT32 } from './dto/formats';
import { validationFailed } from './validation/validation-failed';

/** An fd's ETag: its version, quoted (a strong validator). */
export function etagOf(fdVersion: number): string {
  return `"${fdVersion}"`;
}

/**
 * The fd version an `If-Match` header names: `"<version>"` as GET /v1/fds/{fdId} answered it.
 * `*` (any current fd) and an absent header set no condition; anything else is VALIDATION_FAILED.
 */
export function ifMatchVersion(header: unknown): number | undefined {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value.trim() : '';
  if (text === '*') return undefined;
  const match = /^"(\d{1,10})"$/.exec(text);
  if (!match || Number(match[1]) > MAX_INT32) {
    throw validationFailed([{ field: 'If-Match', message: 'If-Match must be one ETag of this fd, like "12" (or *)' }]);
  }
  return Number(match[1]);
}
