import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EventEnvelope } from '../model/envelope';
import { BatchQueue } from './batch-queue';
import { MalformedSourceError, type EventSource, type SourcedEvent } from './event-source';
import type { ReaderCredit, ReaderData, ReaderMessage } from './ndjson-worker';

/** Batches the reader may run ahead of the replay. */
const READ_AHEAD = 4;
const WORKER = join(__dirname, 'ndjson-worker.js');

/** The file of an export (`ioasidctl export`) or any NDJSON of envelopes does not exist or cannot be read. */
export class SourceFileMissingError extends Error {
  override readonly name = 'SourceFileMissingError';
}

/**
 * Envelopes from an NDJSON file, one per line (an `ioasidctl export`, or any file of envelopes).
 * A worker thread reads and splits the file and proves the hashes of canonical lines while
 * this thread parses and applies: the two halves of a replay run on two cores. Lines of other
 * hosts are skipped, so one file may hold several hosts; blank lines are allowed.
 */
export class NdjsonFileSource implements EventSource {
  readonly name: string;

  constructor(private readonly path: string) {
    this.name = `file ${basename(path)}`;
  }

  async *read(hostId: string, afterVersion: number): AsyncGenerator<SourcedEvent[]> {
    await access(this.path, constants.R_OK).catch((e: NodeJS.ErrnoException) => {
      throw new SourceFileMissingError(`cannot read ${this.path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
    });
    const queue = new BatchQueue<Extract<ReaderMessage, { kind: 'lines' }>>(READ_AHEAD);
    const worker = new Worker(WORKER, { workerData: { path: this.path, credit: READ_AHEAD } satisfies ReaderData });
    worker.on('message', (message: ReaderMessage) => {
      if (message.kind === 'lines') void queue.push(message);
      else if (message.kind === 'end') queue.end();
      else queue.fail(new MalformedSourceError(`cannot read ${this.path}: ${message.message}`));
    });
    worker.on('error', (e) => queue.fail(e));
    try {
      for await (const message of queue) {
        worker.postMessage({ kind: 'credit' } satisfies ReaderCredit);
        const { starts, ends, lineNumbers, hashProven } = message;
        // A transferred Buffer arrives as a plain Uint8Array.
        const bytes = Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength);
        const events: SourcedEvent[] = [];
        for (let i = 0; i < starts.length; i++) {
          const envelope = parseLine(bytes.toString('utf8', starts[i], ends[i]), lineNumbers[i]!, this.path);
          if (envelope.hostId !== hostId || envelope.version <= afterVersion) continue;
          events.push({ envelope, hashProven: hashProven[i] === 1 });
        }
        if (events.length > 0) yield events;
      }
    } finally {
      await worker.terminate();
    }
  }
}

function parseLine(line: string, lineNo: number, path: string): EventEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new MalformedSourceError(`${path}:${lineNo}: not JSON`);
  }
  const e = value as Partial<EventEnvelope> | null;
  if (typeof e !== 'object' || e === null || typeof e.hostId !== 'string' || !Number.isSafeInteger(e.version)) {
    throw new MalformedSourceError(`${path}:${lineNo}: not an event envelope (needs hostId and version)`);
  }
  return e as EventEnvelope;
}
