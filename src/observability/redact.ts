/**
 * Keeps credentials out of logs: bearer tokens, URL passwords, fields named like secrets
 * and the exact secret values the process knows (the operator token). Logs leave the pod
 * (collectors, dashboards, support tickets); a token there is a token leaked.
 */
export const REDACTED = '[REDACTED]';

const SECRET_KEY = /authorization|token|secret|passw(or)?d|cookie|api[-_]?key|credential/i;

const TEXT_RULES: Array<[RegExp, string]> = [
  // "Authorization: Bearer abc", "Basic dXNlcjpwdw=="
  [/\b(Bearer|Basic)\s+[^\s"',;]+/gi, `$1 ${REDACTED}`],
  // postgres://user:password@db:5432/x
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi, `$1${REDACTED}@`],
  // token=abc, "password": "abc", secret: abc
  [/\b((?:access_|refresh_|operator_)?token|secret|passw(?:or)?d|api[-_]?key)(["']?\s*[:=]\s*["']?)[^\s"',;&]+/gi, `$1$2${REDACTED}`],
];

/** Deeper structures are cut, so a redacted copy of a huge object stays cheap. */
const MAX_DEPTH = 6;
/** Shorter "secrets" would match everywhere and make lines unreadable. */
const MIN_SECRET_LENGTH = 8;

export class Redactor {
  private readonly secrets: string[];

  /** `secrets`: exact values never to be written. */
  constructor(secrets: Iterable<string | undefined> = []) {
    this.secrets = [...secrets].filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH);
  }

  text(value: string): string {
    let out = value;
    for (const secret of this.secrets) out = out.split(secret).join(REDACTED);
    for (const [pattern, replacement] of TEXT_RULES) out = out.replace(pattern, replacement);
    return out;
  }

  /** A JSON-safe copy of `value` with every secret replaced. */
  value(value: unknown): unknown {
    return this.copy(value, 0, new WeakSet());
  }

  private copy(value: unknown, depth: number, seen: WeakSet<object>): unknown {
    if (typeof value === 'string') return this.text(value);
    if (typeof value === 'bigint') return value.toString();
    if (value === null || typeof value !== 'object') return typeof value === 'function' ? undefined : value;
    if (seen.has(value)) return '[Circular]';
    if (depth >= MAX_DEPTH) return '[Truncated]';
    seen.add(value);
    try {
      if (value instanceof Error) return this.error(value, depth, seen);
      if (value instanceof Date) return value.toISOString();
      if (Buffer.isBuffer(value)) return `[Buffer ${value.length} bytes]`;
      if (Array.isArray(value)) return value.map((v) => this.copy(v, depth + 1, seen));
      const out: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(value)) {
        out[key] = SECRET_KEY.test(key) && v !== undefined && v !== null ? REDACTED : this.copy(v, depth + 1, seen);
      }
      return out;
    } finally {
      seen.delete(value);
    }
  }

  private error(err: Error, depth: number, seen: WeakSet<object>): Record<string, unknown> {
    const out: Record<string, unknown> = { name: err.name, message: this.text(err.message) };
    const code = (err as { code?: unknown }).code;
    if (code !== undefined) out.code = this.copy(code, depth + 1, seen);
    if (err.stack) out.stack = this.text(err.stack);
    if (err.cause !== undefined) out.cause = this.copy(err.cause, depth + 1, seen);
    return out;
  }
}
