// Pipelined commands enqueued together leave in one socket write: on a loaded host every write is a
// syscall, and RFC 2449 §6.6 asks clients to send pipelined commands in batches.
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Pop3Connection } from '../../../src/pop3/connection.ts';
import { encodeCommand } from '../../../src/pop3/index.ts';
import { greetedConnection, MemorySocket } from './memory-socket.ts';

function open(maxInFlight = 8): { socket: MemorySocket; connection: Pop3Connection } {
  const socket = new MemorySocket();
  const connection = greetedConnection(socket, maxInFlight);
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

const dele = (msg: number) => encodeCommand('DELE', [String(msg)]);
const deleAll = (connection: Pop3Connection, msgs: number[], signal?: AbortSignal) =>
  connection.batch(() => msgs.map((msg) => connection.sendLine(dele(msg), { signal })));

describe('one-line commands in a batch (DELEs)', () => {
  it('sends a window of commands in one write, and the next window when one chunk answers the first', async () => {
    const { socket, connection } = open(2);
    const replies = deleAll(connection, [1, 2, 3, 4, 5]);
    expect(socket.written).toEqual(['DELE 1\r\nDELE 2\r\n']);
    socket.emit('data', Buffer.from('+OK 1\r\n+OK 2\r\n'));
    expect(socket.written).toEqual(['DELE 1\r\nDELE 2\r\n', 'DELE 3\r\nDELE 4\r\n']);
    socket.emit('data', Buffer.from('+OK 3\r\n+OK 4\r\n'));
    socket.emit('data', Buffer.from('+OK 5\r\n'));
    expect(socket.written.slice(2)).toEqual(['DELE 5\r\n']);
    const texts = (await Promise.all(replies)).map((reply) => reply.text);
    expect(texts).toEqual(['1', '2', '3', '4', '5']);
    connection.close();
  });

  it('sends one command per answer without pipelining, as RFC 1939 has it', async () => {
    const { socket, connection } = open(8);
    connection.pipelining = false;
    const replies = deleAll(connection, [1, 2]);
    expect(socket.written).toEqual(['DELE 1\r\n']);
    socket.emit('data', Buffer.from('+OK 1\r\n'));
    expect(socket.written).toEqual(['DELE 1\r\n', 'DELE 2\r\n']);
    socket.emit('data', Buffer.from('-ERR no such message\r\n'));
    await expect(replies[0]).resolves.toMatchObject({ text: '1' });
    await expect(replies[1]).rejects.toThrow(/no such message/);
    connection.close();
  });
});

describe('aborting commands that wait on one signal', () => {
  it('listens once per signal, however many commands wait on it, and lets go when they are answered', async () => {
    const { socket, connection } = open(32);
    const controller = new AbortController();
    const msgs = Array.from({ length: 2_000 }, (_, i) => i + 1);
    const replies = deleAll(connection, msgs, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    while (socket.written.length > 0) {
      const batch = socket.written.splice(0).join('').split('\r\n').filter(Boolean);
      socket.emit('data', Buffer.from(batch.map(() => '+OK\r\n').join('')));
    }
    expect(await Promise.all(replies)).toHaveLength(2_000);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    connection.close();
  });

  it('drops only the queued commands of an aborted signal when none of them is on the wire', async () => {
    const { socket, connection } = open(1);
    connection.pipelining = false;
    const first = connection.sendLine(encodeCommand('NOOP', []));
    const controller = new AbortController();
    const queued = deleAll(connection, [1, 2], controller.signal);
    controller.abort();
    for (const reply of queued) await expect(reply).rejects.toMatchObject({ code: 'POP3_ABORTED' });
    socket.emit('data', Buffer.from('+OK\r\n'));
    await expect(first).resolves.toMatchObject({ kind: 'ok' });
    expect(connection.closed).toBe(false);
    expect(socket.written).toEqual(['NOOP\r\n']);
    connection.close();
  });

  it('ends the connection when an aborted command is on the wire: its reply would be read as the next one', async () => {
    const { connection } = open(2);
    const controller = new AbortController();
    const replies = deleAll(connection, [1, 2, 3], controller.signal);
    controller.abort();
    for (const reply of replies) await expect(reply).rejects.toMatchObject({ code: 'POP3_ABORTED' });
    expect(connection.closed).toBe(true);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
