// Decodes the body of a POP3 multi-line reply (RFC 1939 §3): strips the stuffed dot from lines that
// begin with one and finds the terminating ".CRLF" line, whatever the chunk boundaries. The state
// carried between chunks is the position in the current line, never a peek at "the last few bytes".
// Bytes stay bytes: CRLFs and bare LFs pass through untouched; only CRLF starts a new line, so the
// terminator is exactly CRLF "." CRLF, or ".CRLF" as the very first line (an empty body).

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const CR_BYTE = Buffer.from([CR]);

enum State {
  /** At the start of a line: a dot here is either stuffing or the terminator. */
  LineStart,
  /** A dot opened the line and was dropped. */
  Dot,
  /** ".CR" opened the line: LF would end the body; the CR is held back until we know. */
  DotCr,
  /** Inside a line. */
  Middle,
  /** Inside a line, right after a CR. */
  AfterCr,
}

export interface DecodeResult {
  /** Unstuffed body bytes found in this chunk, in order (slices of the chunk where possible). */
  parts: Buffer[];
  /** Index in the chunk just past the terminator when `done`, else the chunk's length. */
  end: number;
  /** True once the terminator was seen; bytes from `end` on belong to the next reply. */
  done: boolean;
}

export class DotDecoder {
  #state: State = State.LineStart;
  #done = false;

  get done(): boolean {
    return this.#done;
  }

  decode(chunk: Buffer, start = 0): DecodeResult {
    if (this.#done) throw new Error('DotDecoder: body already terminated');
    const parts: Buffer[] = [];
    let segment = start;
    const flush = (until: number) => {
      if (until > segment) parts.push(chunk.subarray(segment, until));
    };
    let i = start;
    while (i < chunk.length) {
      switch (this.#state) {
        case State.Middle: {
          const cr = chunk.indexOf(CR, i);
          if (cr === -1) {
            i = chunk.length;
          } else {
            i = cr + 1;
            this.#state = State.AfterCr;
          }
          break;
        }
        case State.AfterCr: {
          const byte = chunk[i++];
          this.#state = byte === LF ? State.LineStart : byte === CR ? State.AfterCr : State.Middle;
          break;
        }
        case State.LineStart: {
          if (chunk[i] === DOT) {
            flush(i);
            segment = i + 1; // drop the dot: stuffing or the terminator's
            i += 1;
            this.#state = State.Dot;
          } else {
            this.#state = State.Middle;
          }
          break;
        }
        case State.Dot: {
          if (chunk[i] === CR) {
            segment = i + 1; // hold the CR back
            i += 1;
            this.#state = State.DotCr;
          } else {
            // RFC 1939 §3: a line starting with the termination octet has that octet stripped.
            this.#state = State.Middle;
          }
          break;
        }
        case State.DotCr: {
          if (chunk[i] === LF) {
            this.#done = true;
            return { parts, end: i + 1, done: true };
          }
          // Not the terminator: ".CR" followed by something else; give back the held CR.
          parts.push(CR_BYTE);
          this.#state = State.AfterCr;
          break;
        }
      }
    }
    flush(chunk.length);
    return { parts, end: chunk.length, done: false };
  }
}

/** Dot-stuffs a body and appends the terminator (RFC 1939 §3), with the same notion of "line" as the decoder. */
export function encodeDotStuffed(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let lineStart = 0;
  let from = 0;
  while (lineStart < body.length) {
    if (body[lineStart] === DOT) {
      out.push(body.subarray(from, lineStart), Buffer.from('.'));
      from = lineStart;
    }
    const next = body.indexOf('\r\n', lineStart);
    if (next === -1) break;
    lineStart = next + 2;
  }
  out.push(body.subarray(from));
  const endsWithCrlf = body.length >= 2 && body[body.length - 2] === CR && body[body.length - 1] === LF;
  out.push(Buffer.from(body.length === 0 || endsWithCrlf ? '.\r\n' : '\r\n.\r\n'));
  return Buffer.concat(out);
}
