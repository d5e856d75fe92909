// A hostile POP3 server against Pop3Client: oversized and endless replies, garbage, lies about counts and
// sizes, replies to commands never sent, duplicate and malformed UIDLs, bodies that never end, and a server
// that trickles one byte at a time forever. Each case ends, within its time bound, in a correct result or a
// coded Pop3Error; never a hang, never an uncoded exception.
import { createServer, type Server, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { isPop3Error, Pop3Client, type Pop3ClientOptions } from '../../../src/pop3/index.ts';
import { type FakeServerOptions, multiline, startFakePop3Server } from '../../helpers/fake-pop3-server.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A bare TCP server that runs `script` on each connection: for replies no POP3 server would send. */
async function rawServer(script: (socket: Socket) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    script(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return (server.address() as { port: number }).port;
}

const FAST: Partial<Pop3ClientOptions> = {
  connectTimeoutMs: 2_000,
  greetingTimeoutMs: 2_000,
  commandTimeoutMs: 2_000,
};

async function connectRaw(port: number, options: Partial<Pop3ClientOptions> = {}): Promise<Pop3Client> {
  const client = await Pop3Client.connect({ host: '127.0.0.1', port, tls: 'none', ...FAST, ...options });
  cleanups.push(() => client.close());
  return client;
}

/** Logged in to a fake server with the given overrides. */
async function loggedIn(options: FakeServerOptions, clientOptions: Partial<Pop3ClientOptions> = {}) {
  const server = await startFakePop3Server({ messages: ['Subject: a\r\n\r\nbody\r\n'], ...options });
  cleanups.push(() => server.stop());
  const client = await connectRaw(server.port, clientOptions);
  await client.login({ username: 'alice', password: 'secret', allowPlaintextAuth: true });
  return { server, client };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** The Pop3Error code a promise rejects with, and how long that took; anything else fails the test. */
async function failure(promise: Promise<unknown>): Promise<{ code: string; ms: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (error) {
    if (isPop3Error(error)) return { code: error.code, ms: Date.now() - started };
    throw error;
  }
  throw new Error('expected a Pop3Error, the call succeeded');
}

/** Writes `block` whenever the socket drains, until the client goes away: a reply that never ends. */
function flood(socket: Socket, block: Buffer): void {
  const pump = () => {
    while (!socket.destroyed && socket.write(block)) {}
    if (!socket.destroyed) socket.once('drain', pump);
  };
  pump();
}

describe('greetings', () => {
  it('a 1 MB greeting line is POP3_LINE_TOO_LONG', async () => {
    const port = await rawServer((socket) => socket.write(`+OK ${'x'.repeat(1024 * 1024)}\r\n`));
    expect((await failure(connectRaw(port))).code).toBe('POP3_LINE_TOO_LONG');
  });

  it('binary garbage instead of a greeting is POP3_PROTOCOL', async () => {
    const garbage = Buffer.from([
      0x00, 0xff, 0xfe, 0x1b, 0x5b, 0x32, 0x4a, 0x0d, 0x0a, 0x89, 0x50, 0x4e, 0x47,
    ]);
    const port = await rawServer((socket) => socket.write(garbage));
    expect((await failure(connectRaw(port))).code).toBe('POP3_PROTOCOL');
  });

  it('a +OK nobody asked for, right behind the greeting, is POP3_PROTOCOL', async () => {
    const port = await rawServer((socket) => socket.write('+OK hello\r\n+OK unsolicited\r\n'));
    expect((await failure(connectRaw(port))).code).toBe('POP3_PROTOCOL');
  });
});

describe('endless replies', () => {
  it('an endless LIST listing stops at maxListingBytes with POP3_LINE_TOO_LONG', async () => {
    const { client } = await loggedIn(
      {
        overrides: {
          LIST: (_command, session) => {
            session.socket.write('+OK\r\n');
            flood(session.socket, Buffer.from('1 100\r\n'.repeat(2048)));
            return null;
          },
        },
      },
      { maxListingBytes: 256 * 1024 },
    );
    const { code, ms } = await failure(client.list());
    expect(code).toBe('POP3_LINE_TOO_LONG');
    expect(ms).toBeLessThan(5_000);
  });

  it('an endless RETR body stops at maxBytes with POP3_MESSAGE_TOO_LARGE', async () => {
    const { client } = await loggedIn({
      overrides: {
        RETR: (_command, session) => {
          session.socket.write('+OK\r\n');
          flood(session.socket, Buffer.from(`${'y'.repeat(998)}\r\n`.repeat(64)));
          return null;
        },
      },
    });
    const { code } = await failure(client.retr(1, { maxBytes: 1024 * 1024 }).then(readAll));
    expect(code).toBe('POP3_MESSAGE_TOO_LARGE');
    expect(client.state).toBe('closed');
  });
});

describe('a server that trickles one byte every 100 ms', () => {
  function trickle(socket: Socket, bytes: Buffer): void {
    let i = 0;
    const timer = setInterval(() => {
      if (socket.destroyed) return clearInterval(timer);
      socket.write(bytes.subarray(i % bytes.length, (i % bytes.length) + 1));
      i++;
    }, 100);
    socket.on('close', () => clearInterval(timer));
  }

  it('a greeting that never ends is cut by the session timeout (the idle timer never fires)', async () => {
    const port = await rawServer((socket) =>
      trickle(socket, Buffer.from('+OK this greeting goes on and on ')),
    );
    const { code, ms } = await failure(
      connectRaw(port, { sessionTimeoutMs: 1_500, greetingTimeoutMs: 1_000 }),
    );
    expect(code).toBe('POP3_SESSION_TIMEOUT');
    expect(ms).toBeLessThan(3_000);
  });

  it('a RETR body that never ends is cut by the session timeout too', async () => {
    const { client } = await loggedIn(
      {
        overrides: {
          RETR: (_command, session) => {
            session.socket.write('+OK\r\n');
            trickle(session.socket, Buffer.from('slow line\r\n'));
            return null;
          },
        },
      },
      { sessionTimeoutMs: 2_000, commandTimeoutMs: 1_000 },
    );
    const { code, ms } = await failure(client.retr(1).then(readAll));
    expect(code).toBe('POP3_SESSION_TIMEOUT');
    expect(ms).toBeLessThan(3_000);
  });
});

describe('lies and malformed listings', () => {
  it('STAT says 5, LIST lists 3: each answer is taken as given (the session works from LIST and UIDL)', async () => {
    const { client } = await loggedIn({
      overrides: {
        STAT: () => '+OK 5 500\r\n',
        LIST: () => multiline('+OK', '1 10\r\n2 20\r\n3 30\r\n'),
      },
    });
    expect(await client.stat()).toEqual({ count: 5, size: 500 });
    expect(await client.list()).toEqual([
      { msg: 1, size: 10 },
      { msg: 2, size: 20 },
      { msg: 3, size: 30 },
    ]);
  });

  it('a non-numeric size in LIST is POP3_PROTOCOL', async () => {
    const { client } = await loggedIn({ overrides: { LIST: () => multiline('+OK', '1 10\r\n2 lots\r\n') } });
    expect((await failure(client.list())).code).toBe('POP3_PROTOCOL');
  });

  it('a size larger than a safe integer in LIST is POP3_PROTOCOL', async () => {
    const { client } = await loggedIn({
      overrides: { LIST: () => multiline('+OK', '1 99999999999999999999\r\n') },
    });
    expect((await failure(client.list())).code).toBe('POP3_PROTOCOL');
  });

  it('a UIDL listed for two messages is POP3_PROTOCOL (identities must be unique)', async () => {
    const { client } = await loggedIn({
      overrides: { UIDL: () => multiline('+OK', '1 same\r\n2 same\r\n') },
    });
    expect((await failure(client.uidl())).code).toBe('POP3_PROTOCOL');
  });

  it('a UIDL with control characters is POP3_PROTOCOL', async () => {
    const { client } = await loggedIn({ overrides: { UIDL: () => multiline('+OK', '1 abc\u0007def\r\n') } });
    expect((await failure(client.uidl())).code).toBe('POP3_PROTOCOL');
  });

  it('a UIDL with a space keeps its first word, the same in every session', async () => {
    const { client } = await loggedIn({ overrides: { UIDL: () => multiline('+OK', '1 abc def\r\n') } });
    expect(await client.uidl()).toEqual([{ msg: 1, uid: 'abc' }]);
  });

  it('a message bigger than LIST said: the bytes received are the message (maxBytes still bounds it)', async () => {
    const big = Buffer.from(`Subject: big\r\n\r\n${'z'.repeat(50_000)}\r\n`);
    const { client } = await loggedIn({
      messages: [big],
      overrides: { LIST: () => multiline('+OK', '1 100\r\n') },
    });
    expect(await client.list()).toEqual([{ msg: 1, size: 100 }]);
    expect((await readAll(await client.retr(1, { maxBytes: 1024 * 1024 }))).equals(big)).toBe(true);
    await client.quit();
  });

  it('a body with no terminator, then close: the stream fails with POP3_CONNECTION_CLOSED', async () => {
    const { client } = await loggedIn({
      overrides: {
        RETR: (_command, session) => {
          session.socket.end('+OK\r\nSubject: cut\r\n\r\nhalf a mess');
          return null;
        },
      },
    });
    expect((await failure(client.retr(1).then(readAll))).code).toBe('POP3_CONNECTION_CLOSED');
  });

  it('an extra +OK behind a reply, with nothing in flight, ends the session with POP3_PROTOCOL', async () => {
    const { client } = await loggedIn({ overrides: { NOOP: () => '+OK\r\n+OK again\r\n' } });
    await client.noop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(client.state).toBe('closed');
    // Later calls report the first cause, not a retryable "connection closed".
    expect((await failure(client.stat())).code).toBe('POP3_PROTOCOL');
  });
});
