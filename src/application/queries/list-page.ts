import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../store/event-reads';

/** `pageSize` (1..1000, default 100) and the `pageToken` of the previous page, as the audit log takes them. */
export interface PageRequest {
  pageSize?: number;
  pageToken?: string;
}

/** How many rows a page holds. */
export function pageSizeOf(page: PageRequest): number {
  return Math.min(Math.max(page.pageSize ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
}

/**
 * A page from rows read with one row more than the page holds: the extra row only says that
 * another page follows, whose token `tokenAfter` makes from the page's last row.
 */
export function pageOf<T>(rows: T[], size: number, tokenAfter: (last: T) => string): { rows: T[]; nextPageToken?: string } {
  const page = rows.slice(0, size);
  return rows.length > size ? { rows: page, nextPageToken: tokenAfter(page[page.length - 1]) } : { rows: page };
}
