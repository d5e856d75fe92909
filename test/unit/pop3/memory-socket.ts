// Just enough of net.Socket for Pop3Connection in unit tests: data is emitted in by the test, and writes
// are recorded as they would leave (those made while corked leave together on the last uncork).
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { Pop3Connection } from '../../../src/pop3/connection.ts';

export class MemorySocket extends EventEmitter {
  /** One entry per write that left, latin1. */
  readonly written: string[] = [];
  destroyed = false;
  readableLength = 0;
  #corked = 0;
  #held: Buffer[] = [];

  write(bytes: Buffer): boolean {
    if (this.#corked > 0) this.#held.push(bytes);
    else this.written.push(bytes.toString('latin1'));
    return true;
  }
  cork(): void {
    this.#corked++;
  }
  uncork(): void {
    if (this.#corked === 0 || --this.#corked > 0 || this.#held.length === 0) return;
    this.written.push(Buffer.concat(this.#held.splice(0)).toString('latin1'));
  }
  pause(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
}

/** A connection over `socket` that has read the server's greeting (1 s timeouts, 512-byte lines). */
export function greetedConnection(socket: MemorySocket, maxInFlight: number): Pop3Connection {
  const connection = new Pop3Connection(socket as unknown as Socket, {
    maxLineBytes: 512,
    maxListingBytes: 4096,
    commandTimeoutMs: 1_000,
    maxInFlight,
    logger: undefined,
  });
  void connection.greeting(1_000);
  socket.emit('data', Buffer.from('+OK ready\r\n'));
  return connection;
}
