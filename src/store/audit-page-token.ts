import { DomainError } from '../model/errors';

/**
 * Audit pages are keyed by the global event position; the token hides that so clients
 * treat it as opaque and we stay free to change what is inside.
 */
export function encodePageToken(position: string): string {
  return Buffer.from(JSON.stringify({ p: position }), 'utf8').toString('base64url');
}

export function decodePageToken(token: string): string {
  try {
    const { p } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { p?: unknown };
    if (typeof p === 'string' && /^\d{1,19}$/.test(p)) return p;
  } catch {
    // Falls through to the validation error below.
  }
  throw new DomainError('VALIDATION_FAILED', 'pageToken is not a token this API returned', {
    fields: [{ field: 'pageToken', message: 'invalid page token' }],
  });
}
