import { DomainError } from '../model/errors';

/** What a list is sorted by; a token of one list is not a token of another. */
export type ListName = 'hosts' | 'fds';

/**
 * Pages of hosts and fds are keyed by the sort key of the last row answered (host id; host id
 * and fd id), hidden in an opaque token like the audit log's (audit-page-token.ts).
 */
export function encodeListToken(list: ListName, after: readonly string[]): string {
  return Buffer.from(JSON.stringify({ l: list, k: after }), 'utf8').toString('base64url');
}

/** The sort key a token of `list` resumes after, with `size` parts; VALIDATION_FAILED for anything else. */
export function decodeListToken(list: ListName, token: string, size: number): string[] {
  try {
    const { l, k } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { l?: unknown; k?: unknown };
    if (l === list && Array.isArray(k) && k.length === size && k.every((part) => typeof part === 'string')) return k as string[];
  } catch {
    // Falls through to the validation error below.
  }
  throw new DomainError('VALIDATION_FAILED', 'pageToken is not a token this API returned', {
    fields: [{ field: 'pageToken', message: 'invalid page token' }],
  });
}

