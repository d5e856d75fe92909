// Property tests of the whole reply path (line reader → status parser → dot decoder → body sinks → listing
// parsers) through Pop3Connection over an in-memory socket: arbitrary server bytes, split into arbitrary
// chunks, answering STAT, LIST, UIDL, CAPA and RETR. Every call settles with a correct result or a coded
// Pop3Error, never another exception and never a hang: once the bytes run out, either the server closes
// (POP3_CONNECTION_CLOSED) or the idle timer fires (POP3_COMMAND_TIMEOUT, fake timers).
import type { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Pop3Connection } from '../../../src/pop3/connection.ts';
import {
  encodeCommand,
  encodeDotStuffed,
  isPop3Error,
  listingLines,
  parseCapabilities,
  parseList,
  parseStat,
  parseUidl,
} from '../../../src/pop3/index.ts';
import { greetedConnection, MemorySocket } from './memory-socket.ts';

const RUNS = { numRuns: 2_000 };
const COMMAND_TIMEOUT_MS = 1_000;
const MAX_BYTES = 4_096;

function open(): { socket: MemorySocket; connection: Pop3Connection } {
  const socket = new MemorySocket();
  const connection = greetedConnection(socket, 4);
  connection.state = 'transaction';
  return { socket, connection };
}

type Outcome = { ok: true; value: unknown } | { ok: false; code: string };

/** Settles `promise`, insisting that a failure is a coded Pop3Error. */
async function settle(promise: Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    expect(isPop3Error(error), String(error)).toBe(true);
    return { ok: false, code: (error as { code: string }).code };
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const cut of [...at, bytes.length]) {
    if (cut > from) chunks.push(bytes.subarray(from, cut));
    from = cut;
  }
  return chunks;
}

const TOKENS = [
  '+OK',
  '-ERR',
  '+ ',
  ' ',
  '\r\n',
  '\n',
  '\r',
  '.',
  '..',
  '.\r\n',
  '\r\n.\r\n',
  '1',
  '2 ',
  'x',
];
const hostile = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc
    .array(fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 5 })), { maxLength: 40 })
    .map((parts) => Buffer.from(parts.join(''), 'utf8')),
  // A well-formed reply with noise around it: reaches the body and listing parsers.
  fc
    .tuple(fc.string({ maxLength: 60 }), fc.string({ maxLength: 8 }))
    .map(([body, tail]) =>
      Buffer.concat([Buffer.from('+OK\r\n'), encodeDotStuffed(Buffer.from(body)), Buffer.from(tail)]),
    ),
);

type Ask = 'STAT' | 'LIST' | 'UIDL' | 'CAPA' | 'RETR';

/** Sends one command the way Pop3Client does and parses its reply the way Pop3Client does. */
function ask(connection: Pop3Connection, what: Ask): Promise<unknown> {
  switch (what) {
    case 'STAT':
      return connection.sendLine(encodeCommand('STAT')).then((reply) => parseStat(reply.text));
    case 'LIST':
      return connection.sendListing(encodeCommand('LIST')).then((r) => parseList(r.body));
    case 'UIDL':
      return connection.sendListing(encodeCommand('UIDL')).then((r) => parseUidl(r.body));
    case 'CAPA':
      return connection
        .sendListing(encodeCommand('CAPA'))
        .then((r) => parseCapabilities(listingLines(r.body)));
    case 'RETR':
      return connection.sendStream(encodeCommand('RETR', [1]), { maxBytes: MAX_BYTES }).then(readAll);
  }
}

const asks = fc.constantFrom<Ask>('STAT', 'LIST', 'UIDL', 'CAPA', 'RETR');

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Pop3Connection fed hostile bytes', () => {
  it('settles every call once the server closes: a result or a coded Pop3Error', async () => {
    await fc.assert(
      fc.asyncProperty(asks, hostile, fc.array(fc.nat(), { maxLength: 5 }), async (what, reply, cuts) => {
        const { socket, connection } = open();
        const result = settle(ask(connection, what));
        for (const chunk of chunked(reply, cuts)) socket.emit('data', chunk);
        socket.emit('close');
        const outcome = await result;
        if (outcome.ok && what === 'RETR')
          expect((outcome.value as Buffer).length).toBeLessThanOrEqual(MAX_BYTES);
        expect(connection.closed || outcome.ok).toBe(true);
      }),
      RUNS,
    );
  });

  it('settles every call when the server goes quiet: the idle timer ends it', async () => {
    await fc.assert(
      fc.asyncProperty(asks, hostile, async (what, reply) => {
        const { socket, connection } = open();
        const result = settle(ask(connection, what));
        socket.emit('data', reply);
        await vi.advanceTimersByTimeAsync(COMMAND_TIMEOUT_MS + 1);
        const outcome = await result;
        if (!outcome.ok) {
          expect([
            'POP3_COMMAND_TIMEOUT',
            'POP3_PROTOCOL',
            'POP3_LINE_TOO_LONG',
            'POP3_ERR',
            'POP3_MESSAGE_TOO_LARGE',
          ]).toContain(outcome.code);
        }
        connection.close();
      }),
      { numRuns: 500 },
    );
  });

  it('unsolicited bytes with no command in flight close the session with POP3_PROTOCOL', async () => {
    await fc.assert(
      fc.asyncProperty(
        hostile.filter((bytes) => bytes.length > 0),
        async (extra) => {
          const { socket, connection } = open();
          const stat = settle(connection.sendLine(encodeCommand('STAT')));
          socket.emit('data', Buffer.concat([Buffer.from('+OK 1 10\r\n'), extra]));
          expect(await stat).toEqual({ ok: true, value: expect.objectContaining({ kind: 'ok' }) });
          expect(connection.closed).toBe(true);
          // Later calls fail with the first cause, not a retryable "connection closed".
          expect(await settle(connection.sendLine(encodeCommand('NOOP')))).toEqual({
            ok: false,
            code: 'POP3_PROTOCOL',
          });
        },
      ),
      RUNS,
    );
  });

  it('a correct multi-line reply is decoded exactly, however it is chunked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 400 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (bytes, cuts) => {
          const body = Buffer.from(bytes);
          const { socket, connection } = open();
          const result = settle(ask(connection, 'RETR'));
          const wire = Buffer.concat([Buffer.from('+OK\r\n'), encodeDotStuffed(body)]);
          for (const chunk of chunked(wire, cuts)) socket.emit('data', chunk);
          const outcome = await result;
          expect(outcome.ok).toBe(true);
          // encodeDotStuffed ends an unterminated last line with CRLF, which then belongs to the body.
          const expected =
            body.length === 0 || body.subarray(-2).equals(Buffer.from('\r\n'))
              ? body
              : Buffer.concat([body, Buffer.from('\r\n')]);
          expect((outcome as { value: Buffer }).value.equals(expected)).toBe(true);
          connection.close();
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
