/**
 * The reading half of NdjsonFileSource, in a worker thread: reads the file, cuts it into lines
 * and proves the hash of every canonical line, so that the replay thread only decodes, parses
 * and applies. Batches go out as the replay grants credit: memory stays flat for any file size.
 */
import { createReadStream } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { lineProvesItsHash } from './envelope-check';
import type { LineBatch } from './ndjson-lines';
import { LineSplitter } from './ndjson-lines';

/** What the worker sends: lines with, per line, whether its canonical text proved its hash. */
export type ReaderMessage =
  | { kind: 'lines'; bytes: Uint8Array; starts: Int32Array; ends: Int32Array; lineNumbers: Int32Array; hashProven: Uint8Array }
  | { kind: 'end' }
  | { kind: 'error'; message: string };

/** What the replay thread sends: room for one more batch. */
export type ReaderCredit = { kind: 'credit' };

export interface ReaderData {
  path: string;
  /** Batches the worker may send before it waits for credit. */
  credit: number;
}

async function run(port: NonNullable<typeof parentPort>, { path, credit: initial }: ReaderData): Promise<void> {
  let credit = initial;
  let wake: (() => void) | undefined;
  port.on('message', (_: ReaderCredit) => {
    credit++;
    wake?.();
  });
  const send = async (batch: LineBatch) => {
    if (batch.starts.length === 0) return;
    while (credit === 0) await new Promise<void>((resolve) => (wake = resolve));
    credit--;
    const message: ReaderMessage = {
      kind: 'lines',
      bytes: batch.bytes,
      starts: Int32Array.from(batch.starts),
      ends: Int32Array.from(batch.ends),
      lineNumbers: Int32Array.from(batch.lineNumbers),
      hashProven: Uint8Array.from(batch.starts, (start, i) => (lineProvesItsHash(batch.bytes, start, batch.ends[i]!) ? 1 : 0)),
    };
    // Typed arrays whose memory moves to the replay thread without a copy.
    const moved = [message.bytes, message.starts, message.ends, message.lineNumbers, message.hashProven].map((a) => a.buffer as ArrayBuffer);
    port.postMessage(message, moved);
  };

  const splitter = new LineSplitter();
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) await send(splitter.push(chunk as Buffer));
  await send(splitter.end());
  port.postMessage({ kind: 'end' } satisfies ReaderMessage);
}

if (parentPort) {
  const port = parentPort;
  run(port, workerData as ReaderData).catch((e: unknown) => {
    port.postMessage({ kind: 'error', message: e instanceof Error ? e.message : String(e) } satisfies ReaderMessage);
  });
}
