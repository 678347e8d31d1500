import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { CliError, EXIT } from './exit-codes';

/**
 * Text written to `path` through a side file that takes its name only when complete, so a
 * failed or interrupted run never leaves a truncated file that looks whole.
 */
export class AtomicFileWriter {
  private failure: Error | undefined;

  private constructor(
    private readonly path: string,
    private readonly partial: string,
    private readonly stream: WriteStream,
  ) {
    stream.on('error', (e) => (this.failure ??= e));
  }

  static async open(path: string): Promise<AtomicFileWriter> {
    const partial = `${path}.partial`;
    const writer = new AtomicFileWriter(path, partial, createWriteStream(partial, { encoding: 'utf8' }));
    await writer.settle(once(writer.stream, 'open'));
    return writer;
  }

  async write(text: string): Promise<void> {
    if (this.failure) throw this.cannotWrite(this.failure);
    if (!this.stream.write(text)) await this.settle(once(this.stream, 'drain'));
  }

  async commit(): Promise<void> {
    this.stream.end();
    await this.settle(once(this.stream, 'finish'));
    await rename(this.partial, this.path).catch((e: Error) => Promise.reject(this.cannotWrite(e)));
  }

  async abandon(): Promise<void> {
    this.stream.destroy();
    await rm(this.partial, { force: true });
  }

  /** Waits for a stream event, or fails with the stream's error (`once` rejects on 'error'). */
  private async settle(event: Promise<unknown>): Promise<void> {
    try {
      await event;
    } catch (e) {
      throw this.cannotWrite(e as Error);
    }
    if (this.failure) throw this.cannotWrite(this.failure);
  }

  private cannotWrite(e: Error): CliError {
    return new CliError(`cannot write ${this.path}: ${e.message}`, EXIT.NOT_FOUND);
  }
}
