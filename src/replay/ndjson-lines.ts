/** The complete lines found so far: their bytes, and where each non-blank line starts and ends. */
export interface LineBatch {
  /** Owns its memory, so it can be transferred to another thread. */
  bytes: Buffer;
  starts: number[];
  ends: number[];
  /** 1-based line numbers in the file. */
  lineNumbers: number[];
}

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * Cuts a stream of file chunks into lines, on bytes: a line split across chunks is carried to
 * the next one, CRLF endings are accepted, blank lines are skipped but counted. (Splitting
 * bytes avoids decoding the whole file to strings: the consumer decodes only the lines it uses.)
 */
export class LineSplitter {
  private carry: Buffer = Buffer.alloc(0);
  private lineNo = 0;

  push(chunk: Buffer): LineBatch {
    const bytes = Buffer.allocUnsafeSlow(this.carry.length + chunk.length);
    this.carry.copy(bytes, 0);
    chunk.copy(bytes, this.carry.length);
    const batch: LineBatch = { bytes, starts: [], ends: [], lineNumbers: [] };
    let start = 0;
    for (let nl = bytes.indexOf(NEWLINE); nl >= 0; nl = bytes.indexOf(NEWLINE, start)) {
      this.take(batch, start, nl);
      start = nl + 1;
    }
    this.carry = Buffer.from(bytes.subarray(start));
    return batch;
  }

  /** The last line, when the file does not end with a newline. */
  end(): LineBatch {
    const batch: LineBatch = { bytes: this.carry, starts: [], ends: [], lineNumbers: [] };
    if (this.carry.length > 0) this.take(batch, 0, this.carry.length);
    this.carry = Buffer.alloc(0);
    return batch;
  }

  private take(batch: LineBatch, start: number, end: number): void {
    this.lineNo++;
    const stop = end > start && batch.bytes[end - 1] === CR ? end - 1 : end;
    if (isBlank(batch.bytes, start, stop)) return;
    batch.starts.push(start);
    batch.ends.push(stop);
    batch.lineNumbers.push(this.lineNo);
  }
}

function isBlank(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== CR) return false;
  }
  return true;
}
