// Cuts CRLF-terminated status lines out of a byte stream whose chunks can split anywhere, carrying the
// unfinished tail between chunks and bounding its length (RFC 2449 §4 says 512 octets; we are lenient).
import { Pop3Error } from './errors.ts';

export const DEFAULT_MAX_LINE_BYTES = 8 * 1024;

const LF = 0x0a;
const CR = 0x0d;

export interface LineResult {
  /** The line without its CRLF (a bare LF is accepted as the end of a status line too). */
  line: Buffer;
  /** Index in the chunk just past the line's LF: the next reader starts there. */
  end: number;
}

export class LineReader {
  readonly #maxLineBytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(maxLineBytes = DEFAULT_MAX_LINE_BYTES) {
    this.#maxLineBytes = maxLineBytes;
  }

  /** True when part of a line was received and its end was not: bytes are waiting. */
  get hasPartialLine(): boolean {
    return this.#pendingBytes > 0;
  }

  /**
   * Reads one line starting at `start`. Returns null when the chunk ends before the line does (the tail
   * is kept for the next call). Throws POP3_LINE_TOO_LONG once a line outgrows its bound.
   */
  read(chunk: Buffer, start = 0): LineResult | null {
    const lf = chunk.indexOf(LF, start);
    const stop = lf === -1 ? chunk.length : lf;
    const total = this.#pendingBytes + (stop - start);
    // +1: the CR before LF is counted here but is not part of the line.
    if (total > this.#maxLineBytes + 1) this.#tooLong();
    if (lf === -1) {
      if (stop > start) this.#pending.push(chunk.subarray(start, stop));
      this.#pendingBytes = total;
      return null;
    }
    const parts = [...this.#pending, chunk.subarray(start, lf)];
    this.reset();
    let line = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    if (line.length > this.#maxLineBytes) this.#tooLong();
    return { line, end: lf + 1 };
  }

  #tooLong(): never {
    this.reset();
    throw new Pop3Error('POP3_LINE_TOO_LONG', `reply line longer than ${this.#maxLineBytes} bytes`);
  }

  reset(): void {
    this.#pending = [];
    this.#pendingBytes = 0;
  }
}
