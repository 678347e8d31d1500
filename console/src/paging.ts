// Pages of a listing whose server may not page yet: while it answers everything at once, the
// console cuts the page itself; once it honours pageSize and answers nextPageToken, that token
// is followed as it is (nothing else changes).

export interface Cursor {
  pageToken?: string;
  /** Where the page starts in an answer that was not paged by the server. */
  offset: number;
}

export interface Page<T> {
  items: T[];
  next?: Cursor;
}

export async function loadPage<T>(
  load: (query: { pageSize: number; pageToken?: string }) => Promise<{ items: T[]; nextPageToken?: string }>,
  cursor: Cursor,
  pageSize: number,
): Promise<Page<T>> {
  const { items, nextPageToken } = await load({ pageSize, pageToken: cursor.pageToken });
  if (items.length <= pageSize && cursor.offset === 0) {
    return { items, ...(nextPageToken ? { next: { pageToken: nextPageToken, offset: 0 } } : {}) };
  }
  const end = cursor.offset + pageSize;
  return { items: items.slice(cursor.offset, end), ...(end < items.length ? { next: { pageToken: cursor.pageToken, offset: end } } : {}) };
}
