// Pipelined commands enqueued together leave in one socket write: on a loaded host every write is a
// syscall, and RFC 2449 §6.6 asks clients to send pipelined commands in batches.
import { describe, expect, it } from 'vitest';
import type { Pop3Connection } from '../../../src/pop3/connection.ts';
import { encodeCommand } from '../../../src/pop3/index.ts';
import { greetedConnection, MemorySocket } from './memory-socket.ts';

function open(): { socket: MemorySocket; connection: Pop3Connection } {
  const socket = new MemorySocket();
  const connection = greetedConnection(socket, 8);
  connection.state = 'transaction';
  connection.pipelining = true;
  socket.written.length = 0;
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
    expect(socket.written).toEqual(['RETR 1\r\nRETR 2\r\nRETR 3\r\nRETR 4\r\nRETR 5\r\n']);
    connection.close();
  });

  it('without it, each command is its own write', () => {
    const { socket, connection } = open();
    for (let msg = 1; msg <= 3; msg++) void retr(connection, msg);
    expect(socket.written).toEqual(['RETR 1\r\n', 'RETR 2\r\n', 'RETR 3\r\n']);
    connection.close();
  });
});
