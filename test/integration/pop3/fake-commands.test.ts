// Every command of the client against the fake server, with and without PIPELINING: same answers.
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { collectGarbage } from '../../../src/gc.ts';
import { DELE_CHUNK } from '../../../src/pop3/client.ts';
import { Pop3Client } from '../../../src/pop3/index.ts';
import {
  type FakePop3Server,
  type FakeServerOptions,
  startFakePop3Server,
} from '../../helpers/fake-pop3-server.ts';

const MESSAGES = [
  'Subject: one\r\n\r\nfirst body\r\n',
  { uid: 'abc-2', body: 'Subject: two\r\n\r\n.starts with a dot\r\n..two dots\r\n.\r\nend\r\n' },
  Buffer.from('Subject: three\r\n\r\nbare\nLF and \u00e9\r\nline 2\r\nline 3\r\n', 'utf8'),
];

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

let server: FakePop3Server | undefined;
let client: Pop3Client | undefined;

afterEach(async () => {
  client?.close();
  await server?.stop();
  server = undefined;
  client = undefined;
});

async function session(options: FakeServerOptions = {}, pipelining = true): Promise<Pop3Client> {
  server = await startFakePop3Server({ messages: MESSAGES, ...options });
  client = await Pop3Client.connect({ host: server.host, port: server.port, tls: 'none', pipelining });
  await client.login({ username: 'alice', password: 'secret', auth: 'user', allowPlaintextAuth: true });
  return client;
}

async function everything(c: Pop3Client) {
  const stat = await c.stat();
  const list = await c.list();
  const uidl = await c.uidl();
  const listOne = await c.listOne(2);
  const uidlOne = await c.uidlOne(2);
  const bodies: string[] = [];
  await c.retrEach([1, 2, 3], async (_msg, body) => {
    bodies.push((await readAll(body)).toString('base64'));
  });
  const top = (await readAll(await c.top(1, 0))).toString();
  await c.noop();
  await c.deleMany([1, 3]);
  const afterDele = await c.stat();
  await c.rset();
  const afterRset = await c.stat();
  await c.dele(2);
  await c.quit();
  return { stat, list, uidl, listOne, uidlOne, bodies, top, afterDele, afterRset };
}

describe('Pop3Client commands against the fake server', () => {
  for (const pipelining of [true, false]) {
    it(`gives the same answers with pipelining ${pipelining ? 'on' : 'off'}`, async () => {
      const c = await session({ pipelining }, pipelining);
      expect(c.state).toBe('transaction');
      const result = await everything(c);
      expect(result.stat).toEqual({
        count: 3,
        size: server!.sessions[0]!.messages.reduce((s, m) => s + m.body.length, 0),
      });
      expect(result.list.map((e) => e.msg)).toEqual([1, 2, 3]);
      expect(result.uidl).toEqual([
        { msg: 1, uid: 'uid-1' },
        { msg: 2, uid: 'abc-2' },
        { msg: 3, uid: 'uid-3' },
      ]);
      expect(result.listOne).toEqual(result.list[1]);
      expect(result.uidlOne).toEqual({ msg: 2, uid: 'abc-2' });
      const expected = server!.sessions[0]!.messages.map((m) => m.body.toString('base64'));
      expect(result.bodies).toEqual(expected);
      expect(result.top).toBe('Subject: one\r\n\r\n');
      expect(result.afterDele).toEqual({ count: 1, size: expect.any(Number) });
      expect(result.afterRset.count).toBe(3);
      expect(c.state).toBe('closed');
      expect(server!.mailbox.map((m) => m.uid)).toEqual(['uid-1', 'uid-3']);
    });
  }
});

describe('pipelining on the wire', () => {
  /** Index in the server transcript of the first line matching. */
  const at = (pattern: RegExp) => server!.transcript.findIndex((line) => pattern.test(line));

  it('sends RETRs ahead when PIPELINING is offered, and calls the handler in order', async () => {
    const c = await session({ delayMs: 20 }, true);
    const order: number[] = [];
    await c.retrEach([3, 1, 2], async (msg, body) => {
      await readAll(body);
      order.push(msg);
    });
    expect(order).toEqual([3, 1, 2]);
    expect(at(/C\[1\]: RETR 2/)).toBeLessThan(at(/S\[1\]: \+OK \d+ octets/));
  });

  it('lets go of each body once its handler is done: a long session holds the window, not every message', async () => {
    // A session of 6,000 messages held every body it had read (its stream, listeners and promise) until it
    // ended: 22 MB of the main thread's heap in the benchmark.
    const messages = Array.from({ length: 120 }, (_, i) => `Subject: ${i}\r\n\r\nbody ${i}\r\n`);
    const c = await session({ messages }, true);
    const handled: Array<WeakRef<Readable>> = [];
    let stillHeld = -1;
    await c.retrEach(
      messages.map((_, i) => i + 1),
      async (msg, body) => {
        await readAll(body);
        handled.push(new WeakRef(body));
        if (msg !== 100) return;
        await new Promise(setImmediate);
        collectGarbage();
        stillHeld = handled.slice(0, 60).filter((ref) => ref.deref() !== undefined).length;
      },
    );
    expect(handled).toHaveLength(120);
    expect(stillHeld).toBe(0);
  });

  it('sends one RETR at a time without PIPELINING', async () => {
    const c = await session({ pipelining: false }, true);
    await c.retrEach([1, 2], async (_msg, body) => void (await readAll(body)));
    expect(at(/C\[1\]: RETR 2/)).toBeGreaterThan(at(/S\[1\]: \+OK \d+ octets/));
  });

  it('never pipelines QUIT behind DELE, even when called without waiting', async () => {
    const c = await session({ delayMs: 20 }, true);
    const deleted = c.deleMany([1, 2, 3]);
    const quit = c.quit();
    await Promise.all([deleted, quit]);
    const lastDeleReply = server!.transcript.lastIndexOf('S[1]: +OK deleted');
    expect(at(/C\[1\]: DELE 3/)).toBeLessThan(lastDeleReply);
    expect(at(/C\[1\]: QUIT/)).toBeGreaterThan(lastDeleReply);
    expect(server!.mailbox).toEqual([]);
  });
});

describe('DELE of many messages', () => {
  const many = Array.from({ length: DELE_CHUNK + 10 }, (_, i) => `Subject: ${i + 1}\r\n\r\nbody\r\n`);
  const lineOf = (pattern: RegExp) => server!.transcript.findIndex((line) => pattern.test(line));

  it('sends DELE_CHUNK at a time, the next chunk once every reply of the one before came', async () => {
    // The server holds its reply to the chunk's last DELE a moment: what it has read by then is all a
    // client that sent everything at once would have sent, and no more than the first chunk when chunked.
    let readWhileHeld = 0;
    const c = await session({
      messages: many,
      overrides: {
        DELE: async ({ args }, s) => {
          if (args[0] !== String(DELE_CHUNK)) return undefined;
          await new Promise((resolve) => setTimeout(resolve, 50));
          readWhileHeld = s.socket.bytesRead;
          return undefined;
        },
      },
    });
    const msgs = many.map((_, i) => i + 1);
    await c.deleMany(msgs);
    const secondChunk = msgs.slice(DELE_CHUNK).reduce((n, msg) => n + `DELE ${msg}\r\n`.length, 0);
    expect(server!.sessions[0]!.socket.bytesRead - readWhileHeld).toBe(secondChunk);
    await c.quit();
    expect(server!.mailbox).toEqual([]);
  });

  it('throws the first failure of a chunk once all its replies came, and sends no later chunk', async () => {
    const c = await session({ messages: many });
    const msgs = many.map((_, i) => i + 1);
    msgs[3] = many.length + 1; // no such message
    await expect(c.deleMany(msgs)).rejects.toThrow(/no such message/i);
    expect(server!.transcript.filter((line) => line === 'S[1]: +OK deleted')).toHaveLength(DELE_CHUNK - 1);
    expect(lineOf(new RegExp(`^C\\[1\\]: DELE ${DELE_CHUNK + 1}$`))).toBe(-1);
  });
});

describe('login details', () => {
  it('sends UTF8 in the AUTHORIZATION state, before the credentials, when CAPA lists it (RFC 6856)', async () => {
    const c = await session({ utf8: true });
    expect(c.utf8).toBe(true);
    const sent = server!.transcript.filter((line) => line.startsWith('C'));
    expect(sent.slice(0, 4)).toEqual(['C[1]: CAPA', 'C[1]: UTF8', 'C[1]: USER alice', 'C[1]: PASS secret']);
  });

  it('does not send UTF8 when CAPA does not list it', async () => {
    const c = await session({});
    expect(c.utf8).toBe(false);
    expect(server!.transcript.some((line) => line.includes('UTF8'))).toBe(false);
  });

  it('auto picks the strongest SASL mechanism offered', async () => {
    server = await startFakePop3Server({ messages: MESSAGES, sasl: ['LOGIN', 'PLAIN'] });
    client = await Pop3Client.connect({ host: server.host, port: server.port, tls: 'none' });
    await client.login({ username: 'alice', password: 'secret', allowPlaintextAuth: true });
    expect(client.transcript).toContain('C: AUTH PLAIN ****');
  });

  it('XOAUTH2 uses the two-line form Microsoft 365 requires, the token masked', async () => {
    server = await startFakePop3Server({ messages: MESSAGES, tokens: { alice: 'ya29.token' } });
    client = await Pop3Client.connect({ host: server.host, port: server.port, tls: 'none' });
    await client.login({
      username: 'alice',
      accessToken: 'ya29.token',
      auth: 'xoauth2',
      allowPlaintextAuth: true,
    });
    expect(client.state).toBe('transaction');
    expect(client.transcript).toContain('C: AUTH XOAUTH2');
    expect(server.transcript.find((line) => line.startsWith('C[1]: AUTH'))).toBe('C[1]: AUTH XOAUTH2');
  });

  it('APOP uses the greeting timestamp, only when asked for', async () => {
    server = await startFakePop3Server({ messages: MESSAGES });
    client = await Pop3Client.connect({ host: server.host, port: server.port, tls: 'none' });
    await client.login({ username: 'alice', password: 'secret', auth: 'apop', allowPlaintextAuth: true });
    expect(client.state).toBe('transaction');
    expect(client.transcript).toContain('C: APOP alice ****');
  });

  it('APOP without a timestamp in the greeting is POP3_AUTH_UNSUPPORTED', async () => {
    server = await startFakePop3Server({ greeting: 'no timestamp here' });
    client = await Pop3Client.connect({ host: server.host, port: server.port, tls: 'none' });
    const error = await client
      .login({ username: 'alice', password: 'secret', auth: 'apop', allowPlaintextAuth: true })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'POP3_AUTH_UNSUPPORTED' });
  });

  it('parses the capabilities and reports no TLS on a plain connection', async () => {
    const c = await session({});
    expect(c.tlsInfo).toBeNull();
    expect(c.capabilities).toMatchObject({ pipelining: true, uidl: true, top: true, expire: 'NEVER' });
    expect(c.greeting).toMatch(/^fake POP3 ready </);
  });

  it('refuses commands in the wrong state with POP3_STATE', async () => {
    server = await startFakePop3Server({ messages: MESSAGES });
    client = await Pop3Client.connect({ host: server.host, port: server.port, tls: 'none' });
    await expect(client.stat()).rejects.toMatchObject({ code: 'POP3_STATE' });
    await client.login({ username: 'alice', password: 'secret', auth: 'user', allowPlaintextAuth: true });
    await expect(client.login({ username: 'alice', password: 'x' })).rejects.toMatchObject({
      code: 'POP3_STATE',
    });
  });
});
