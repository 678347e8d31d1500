import { setTimeout as sleep } from 'node:timers/promises';
import { httpRequest, type HttpAnswer } from './http-request';

/** One logical command as a client saw it, after all its retries. */
export interface CommandRecord {
  /** Idempotency-Key, also sent as x-correlation-id so the command's events can be found in the log. */
  key: string;
  method: string;
  path: string;
  body?: unknown;
  /** The final answer (0 when the client gave up without one). */
  status: number;
  answer: any;
  attempts: number;
  /** Attempts that ended in a connection error (server killed or restarting). */
  connectionErrors: number;
  /** Attempts answered 503 UNAVAILABLE. */
  unavailable: number;
}

export interface RetryPolicy {
  /** Bound on attempts of one command: the client gives up (status 0) rather than loop forever. */
  maxAttempts: number;
  /** Wait between attempts, grown linearly up to maxDelayMs. */
  delayMs: number;
  maxDelayMs: number;
}

export const PATIENT_RETRIES: RetryPolicy = { maxAttempts: 600, delayMs: 25, maxDelayMs: 250 };

/**
 * An orchestrator's client: each command carries an Idempotency-Key and is retried with the
 * same key on connection errors and 503, as API.md tells clients to. Every command is
 * recorded, so a test can compare what clients were told with what the event log holds.
 */
export class RetryingClient {
  readonly records: CommandRecord[] = [];

  constructor(
    private readonly baseUrl: () => string,
    private readonly token: string,
    private readonly policy: RetryPolicy = PATIENT_RETRIES,
  ) {}

  async command(method: string, path: string, key: string, body?: unknown): Promise<CommandRecord> {
    const record: CommandRecord = { key, method, path, body, status: 0, answer: undefined, attempts: 0, connectionErrors: 0, unavailable: 0 };
    this.records.push(record);
    while (record.attempts < this.policy.maxAttempts) {
      record.attempts++;
      let answer: HttpAnswer;
      try {
        answer = await httpRequest(`${this.baseUrl()}${path}`, {
          method,
          body,
          agent: false,
          headers: { authorization: `Bearer ${this.token}`, 'idempotency-key': key, 'x-correlation-id': key },
        });
      } catch {
        record.connectionErrors++;
        await sleep(this.delay(record.attempts));
        continue;
      }
      record.status = answer.status;
      record.answer = parse(answer.body);
      if (answer.status !== 503) return record;
      record.unavailable++;
      await sleep(this.delay(record.attempts));
    }
    return record;
  }

  private delay(attempt: number): number {
    return Math.min(this.policy.maxDelayMs, this.policy.delayMs * attempt);
  }
}

function parse(body: string): unknown {
  if (body === '') return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

/** Every record of several clients, and the failures among them. */
export function summarize(records: CommandRecord[]) {
  return {
    commands: records.length,
    attempts: records.reduce((n, r) => n + r.attempts, 0),
    retriedAfterConnectionError: records.filter((r) => r.connectionErrors > 0).length,
    retriedAfter503: records.filter((r) => r.unavailable > 0).length,
    acked: records.filter((r) => r.status >= 200 && r.status < 300).length,
    failed: records.filter((r) => !(r.status >= 200 && r.status < 300)),
  };
}
