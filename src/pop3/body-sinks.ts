// Where the decoded body of a multi-line reply goes: a bounded in-memory listing (CAPA, LIST, UIDL) or a
// Readable handed to the caller (RETR, TOP) with back-pressure and a byte bound. Sinks never see the
// socket: the connection feeds them parts and tells them how the body ended.
import { Readable } from 'node:stream';
import { Pop3Error } from './errors.ts';

export interface BodySink {
  /** Returns false when the consumer wants no more for now (the socket should pause). */
  write(parts: Buffer[]): boolean;
  end(): void;
  fail(error: Error): void;
}

/** Collects a listing up to `maxBytes`; past that, POP3_LINE_TOO_LONG (the connection must close). */
export class ListingSink implements BodySink {
  readonly #parts: Buffer[] = [];
  #bytes = 0;
  readonly #maxBytes: number;
  readonly #onEnd: (body: Buffer) => void;

  constructor(maxBytes: number, onEnd: (body: Buffer) => void) {
    this.#maxBytes = maxBytes;
    this.#onEnd = onEnd;
  }

  write(parts: Buffer[]): boolean {
    for (const part of parts) {
      this.#bytes += part.length;
      if (this.#bytes > this.#maxBytes) {
        throw new Pop3Error('POP3_LINE_TOO_LONG', `multi-line listing longer than ${this.#maxBytes} bytes`);
      }
      this.#parts.push(part);
    }
    return true;
  }

  end(): void {
    this.#onEnd(Buffer.concat(this.#parts, this.#bytes));
  }

  fail(): void {
    this.#parts.length = 0;
  }
}

export interface StreamSinkOptions {
  maxBytes?: number;
  /** Called when the consumer reads again after write() returned false. */
  onDrain: () => void;
}

/**
 * A message body as a Readable. If the consumer destroys it early, the rest of the body is still read
 * off the wire and dropped, so the session stays usable; `maxBytes` is enforced on unstuffed bytes.
 */
export class StreamSink implements BodySink {
  readonly stream: Readable;
  #bytes = 0;
  readonly #maxBytes: number;

  constructor(options: StreamSinkOptions) {
    this.#maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.stream = new Readable({ read: () => options.onDrain() });
    // A consumer that destroys the stream will never read again: stop waiting for it.
    this.stream.once('close', () => options.onDrain());
    // The body can fail in the same tick it is handed out, before the caller could listen: the error
    // stays on the stream (`errored`), where for-await, pipeline() and finished() report it.
    this.stream.on('error', () => {});
  }

  write(parts: Buffer[]): boolean {
    let more = true;
    for (const part of parts) {
      this.#bytes += part.length;
      if (this.#bytes > this.#maxBytes) {
        throw new Pop3Error('POP3_MESSAGE_TOO_LARGE', `message larger than maxBytes (${this.#maxBytes})`, {
          retryable: false,
        });
      }
      if (!this.stream.destroyed) more = this.stream.push(part) && more;
    }
    return more || this.stream.destroyed;
  }

  end(): void {
    if (!this.stream.destroyed) this.stream.push(null);
  }

  fail(error: Error): void {
    if (!this.stream.destroyed) this.stream.destroy(error);
  }
}
