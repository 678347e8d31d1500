import { once } from 'node:events';

const LINES_PER_WRITE = 2_000;

/** Writes lines to stdout in chunks, waiting when the pipe is full so a huge state never piles up in memory. */
export async function printLines(lines: Iterable<string>): Promise<void> {
  let chunk: string[] = [];
  for (const line of lines) {
    chunk.push(line);
    if (chunk.length === LINES_PER_WRITE) {
      await write(chunk.join('\n') + '\n');
      chunk = [];
    }
  }
  if (chunk.length > 0) await write(chunk.join('\n') + '\n');
}

async function write(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
}

/** A one-line notice for the person at the terminal; never on stdout, which may be parsed. */
export function notice(message: string): void {
  process.stderr.write(`ioasidctl: ${message}\n`);
}
