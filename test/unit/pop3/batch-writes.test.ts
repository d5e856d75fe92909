// Pipelined commands enqueued together leave in one socket write: on a loaded host every write is a
// syscall, and RFC 2449 §6.6 asks clients to send pipelined commands in batches.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Pop3Connection } from '../../../src/pop3/connection.ts';
import { encodeCommand } from '../../../src/pop3/index.ts';

/** Records each flush the way net.Socket does: writes made while corked leave together on the last uncork. */
class CorkingSocket extends EventEmitter {
  readonly flushes: string[] = [];
  #corked = 0;
  #held: Buffer[] = [];
  destroyed = false;
  readableLength = 0;
  write(bytes: Buffer): boolean {
    if (this.#corked > 0) this.#held.push(bytes);
    else this.flushes.push(bytes.toString('latin1'));
    return true;
  }
  cork(): void {
    this.#corked++;
  }
  uncork(): void {
    if (this.#corked === 0 || --this.#corked > 0 || this.#held.length === 0) return;
    this.flushes.push(Buffer.concat(this.#held.splice(0)).toString('latin1'));
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

function open(): { socket: CorkingSocket; connection: Pop3Connection } {
  const socket = new CorkingSocket();
  const connection = new Pop3Connection(socket as unknown as Socket, {
    maxLineBytes: 512,
    maxListingBytes: 4096,
    commandTimeoutMs: 1000,
    maxInFlight: 8,
    logger: undefined,
  });
  void connection.greeting(1000);
  socket.emit('data', Buffer.from('+OK ready\r\n'));
  connection.state = 'transaction';
  connection.pipelining = true;
  socket.flushes.length = 0;
  return { socket, connection };
}

const retr = (connection: Pop3Connection, msg: number) =>
  connection.sendStream(encodeCommand('RETR', [String(msg)])).catch(() => undefined);

describe('Pop3Connection.batch', () => {
  it('sends the commands enqueued inside it in one write', () => {
    const { socket, connection } = open();
    connection.batch(() => {
      for (let msg = 1; msg <= 5; msg++) void retr(connection, msg);
    });
    expect(socket.flushes).toEqual(['RETR 1\r\nRETR 2\r\nRETR 3\r\nRETR 4\r\nRETR 5\r\n']);
    connection.close();
  });

  it('without it, each command is its own write', () => {
    const { socket, connection } = open();
    for (let msg = 1; msg <= 3; msg++) void retr(connection, msg);
    expect(socket.flushes).toEqual(['RETR 1\r\n', 'RETR 2\r\n', 'RETR 3\r\n']);
    connection.close();
  });
});
