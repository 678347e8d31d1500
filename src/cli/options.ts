import { InvalidArgumentError } from 'commander';

/** An ISO 8601 date (midnight UTC) or date-time with its zone: 2025-01-31, 2025-01-31T12:00Z, 2025-01-31T12:00:00.123+02:00. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

export function parseVersion(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`bad version "${raw}": expected a positive integer`);
  }
  return n;
}

export function parseIsoTime(raw: string): Date {
  const text = raw.trim();
  const ms = ISO_TIME.test(text) && isCalendarDate(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) throw new InvalidArgumentError(`bad time "${raw}": expected an ISO 8601 time such as 2025-01-31T12:00:00Z`);
  return new Date(ms);
}

/** Date.parse rolls 2025-02-30 over to March 2nd: a day the month does not have is a typo, not a time. */
function isCalendarDate(text: string): boolean {
  const [y, m, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** Where `replay --from` reads events. */
export type SourceSpec = { kind: 'postgres' } | { kind: 'kafka' } | { kind: 'file'; path: string };

export function parseSource(raw: string): SourceSpec {
  if (raw === 'postgres' || raw === 'kafka') return { kind: raw };
  if (raw.startsWith('file:') && raw.length > 'file:'.length) return { kind: 'file', path: raw.slice('file:'.length) };
  throw new InvalidArgumentError(`bad source "${raw}": expected postgres, kafka or file:PATH`);
}

export function parseNonEmpty(raw: string): string {
  if (raw.trim() === '') throw new InvalidArgumentError('must not be empty');
  return raw.trim();
}
