import { documentedCodesByStatus } from './api-doc';

/** API.md "Errors", read from the contract (not from the code under test): HTTP status -> the codes it may carry. */
const DOCUMENTED_CODES = documentedCodesByStatus();

/**
 * Why an answer breaks the contract (undefined: it keeps it): a 5xx other than 503, an error
 * without the `{"error": {code, message, details}}` body (requests Node cannot even parse
 * included), or a code its status may not carry.
 */
export function contractBreach(status: number, contentType: string | undefined, body: string, options: { allow503?: boolean } = {}): string | undefined {
  if (status === 0) return 'no answer (connection closed)';
  if (status >= 500 && !(options.allow503 && status === 503)) return `server error ${status}: ${body.slice(0, 300)}`;
  if (status < 400) return undefined;
  if (!(contentType ?? '').includes('json')) return `error ${status} without a JSON body`;
  let error: { code?: unknown; message?: unknown; details?: unknown } | undefined;
  try {
    error = (JSON.parse(body) as { error?: typeof error }).error;
  } catch {
    return `error ${status} with a body that is not JSON`;
  }
  if (!error || typeof error.code !== 'string' || typeof error.message !== 'string' || typeof error.details !== 'object' || error.details === null) {
    return `error ${status} without {error: {code, message, details}}: ${body.slice(0, 300)}`;
  }
  if (!DOCUMENTED_CODES[status]?.includes(error.code)) return `code ${error.code} is not documented for HTTP ${status}`;
  return undefined;
}
