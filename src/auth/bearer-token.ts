/** Longer credentials are refused unread: no token this service issues comes near it. */
const MAX_TOKEN_LENGTH = 512;

/**
 * The token of an `Authorization: Bearer <token>` header (REST) or `authorization`
 * metadata entry (gRPC); undefined when absent or not a bearer credential.
 */
export function bearerToken(header: unknown): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  if (!match || match[1].length > MAX_TOKEN_LENGTH) return undefined;
  return match[1];
}
