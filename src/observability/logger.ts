import type { LoggerService, LogLevel as NestLogLevel } from '@nestjs/common';
import { configure } from 'safe-stable-stringify';
import { LOG_LEVELS, type AppConfig, type LogLevel } from '../config';
import { Redactor } from './redact';

/** Where lines go: process.stdout in production, a buffer in tests. */
export interface LineSink {
  write(line: string): unknown;
}

export interface JsonLoggerOptions {
  level?: LogLevel;
  out?: LineSink;
  /** Exact values never to be written (the operator token). */
  secrets?: Iterable<string | undefined>;
  now?: () => Date;
}

const stringify = configure({ bigint: true, circularValue: '[Circular]', deterministic: false });

/** Keys the logger owns; a caller's structured fields may not overwrite them. */
const RESERVED = new Set(['time', 'level', 'msg', 'context']);

const STACK_LINE = /\n\s+at\s/;

/**
 * A NestJS LoggerService that writes one JSON object per line:
 * `{time, level, msg, context?, correlationId?, tenant?, host?, command?, ...fields}`.
 * The request fields come from the request context (request-context.ts), so code that
 * logs needs not pass them. Use it through Nest's `Logger` facade; a plain object as the
 * message is written as fields (`{msg: 'published', host, events: 3}`).
 */
export class JsonLogger implements LoggerService {
  private threshold: number;
  private readonly out: LineSink;
  private readonly redactor: Redactor;
  private readonly now: () => Date;

  constructor(options: JsonLoggerOptions = {}) {
    this.threshold = severity(options.level ?? 'info');
    this.out = options.out ?? process.stdout;
    this.redactor = new Redactor(options.secrets);
    this.now = options.now ?? (() => new Date());
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /** Nest passes the enabled levels; the least severe of them becomes the threshold. */
  setLogLevels(levels: NestLogLevel[]): void {
    const enabled = levels.map((l) => severity(l === 'log' ? 'info' : l));
    this.threshold = enabled.length ? Math.max(...enabled) : -1;
  }

  isEnabled(level: LogLevel): boolean {
    return severity(level) <= this.threshold;
  }

  private write(level: LogLevel, message: unknown, params: unknown[]): void {
    if (!this.isEnabled(level)) return;
    const { context, stack, fields, extra } = splitParams(params);
    const entry: Record<string, unknown> = { time: this.now().toISOString(), level, msg: '' };
    if (context) entry.context = context;

    if (message instanceof Error) {
      entry.msg = message.message;
      entry.err = message;
    } else if (isPlainObject(message)) {
      const { msg, message: text, ...rest } = message;
      entry.msg = msg ?? text ?? '';
      Object.assign(entry, withoutReserved(rest));
    } else {
      entry.msg = typeof message === 'string' ? message : stringify(message);
    }
    for (const f of fields) Object.assign(entry, withoutReserved(f));
    if (extra.length) entry.args = extra;
    if (stack) entry.stack = stack;

    this.out.write(`${stringify(this.redactor.value(entry))}\n`);
  }
}

/** The process logger, configured from AppConfig (LOG_LEVEL) and never writing the operator token. */
export function createLogger(config: Pick<AppConfig, 'logLevel' | 'operatorToken'>, out?: LineSink): JsonLogger {
  return new JsonLogger({ level: config.logLevel, secrets: [config.operatorToken], out });
}

function severity(level: string): number {
  const index = (LOG_LEVELS as readonly string[]).indexOf(level);
  return index === -1 ? severity('info') : index;
}

/**
 * Nest's calling convention: optional params, the last string being the context; for
 * `error`, a string that looks like a stack trace is the stack. Errors and plain objects
 * become fields; anything else is kept under `args`.
 */
function splitParams(params: unknown[]): {
  context?: string;
  stack?: string;
  fields: Record<string, unknown>[];
  extra: unknown[];
} {
  const rest = [...params];
  let context: string | undefined;
  let stack: string | undefined;
  const last = rest[rest.length - 1];
  if (typeof last === 'string' && !STACK_LINE.test(last)) {
    context = last;
    rest.pop();
  }
  const fields: Record<string, unknown>[] = [];
  const extra: unknown[] = [];
  for (const p of rest) {
    // Nest's Logger facade appends its own context after the one the caller passed.
    if (p === context) continue;
    if (typeof p === 'string' && STACK_LINE.test(p)) stack = p;
    else if (p instanceof Error) fields.push({ err: p });
    else if (isPlainObject(p)) fields.push(p);
    else if (p !== undefined) extra.push(p);
  }
  return { context, stack, fields, extra };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function withoutReserved(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([k]) => !RESERVED.has(k)));
}
