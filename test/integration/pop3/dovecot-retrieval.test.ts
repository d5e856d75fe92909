// Interop with a real Dovecot 2.3 on a mailbox of 1,000+ messages: UIDL, LIST, TOP and RETR (RFC 1939),
// pipelined (RFC 2449 §6.6) and one at a time, every message byte-identical to what Dovecot serves for
// the stored file (dot lines, raw UTF-8, binary attachments, LF-only files, a multi-megabyte message).
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pop3Client } from '../../../src/pop3/index.ts';
import { type DovecotServer, startDovecot } from '../../helpers/dovecot.ts';
import { bigMessage, mixedCorpus, smallCorpus } from '../../helpers/mail-corpus.ts';

const USER = 'reader';
const PASSWORD = 'reader-secret';
const EDGE_USER = 'edges';

let server: DovecotServer;
let stored: Buffer[];
let expected: Buffer[];

beforeAll(async () => {
  server = await startDovecot({ users: { [USER]: PASSWORD, [EDGE_USER]: PASSWORD } });
  stored = [
    ...mixedCorpus(60, 21, { maxAttachmentBytes: 96 * 1024 }).map((m) => m.raw),
    // Dovecot turns LF-only files into CRLF on the wire; these check the harness's expectedBytes too.
    ...mixedCorpus(20, 22, { lineEnding: 'lf', maxAttachmentBytes: 32 * 1024 }).map((m) => m.raw),
    ...smallCorpus(1000, 23).map((m) => m.raw),
    bigMessage(4 * 1024 * 1024, 24).raw,
  ];
  await server.addMessages(USER, stored);
  expected = stored.map((raw) => server.expectedBytes(raw));
});

afterAll(async () => {
  await server?.stop();
});

async function open(pipelining: boolean, username = USER): Promise<Pop3Client> {
  const client = await Pop3Client.connect({
    host: server.host,
    port: server.pop3sPort,
    tls: 'implicit',
    ca: server.caPem,
    pipelining,
  });
  await client.login({ username, password: PASSWORD });
  return client;
}

async function collect(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** UIDL, LIST and every RETR in one session; QUIT without DELE changes nothing. */
async function retrieveAll(pipelining: boolean) {
  const client = await open(pipelining);
  try {
    const uids = await client.uidl();
    const sizes = await client.list();
    const bodies: Buffer[] = new Array(uids.length);
    await client.retrEach(
      uids.map((entry) => entry.msg),
      async (msg, body) => {
        bodies[msg - 1] = await collect(body);
      },
    );
    await client.quit();
    return { uids, sizes, bodies };
  } finally {
    client.close();
  }
}

const digest = (buffers: Buffer[]): string[] =>
  buffers.map((buffer) => createHash('sha256').update(buffer).digest('hex'));

describe('Dovecot: a mailbox of 1,081 messages', () => {
  let pipelined: Awaited<ReturnType<typeof retrieveAll>>;

  it('pipelined: UIDL and LIST cover every message, RETR returns each byte for byte', async () => {
    pipelined = await retrieveAll(true);
    expect(pipelined.uids).toHaveLength(stored.length);
    expect(new Set(pipelined.uids.map((entry) => entry.uid)).size).toBe(stored.length);
    for (const entry of pipelined.uids) expect(entry.uid).toMatch(/^[0-9a-f]{16}$/i);
    // Every stored message ends with a newline, so LIST's size is exactly what RETR carries.
    expect(pipelined.sizes.map((entry) => entry.size)).toEqual(expected.map((bytes) => bytes.length));
    expect(pipelined.bodies).toHaveLength(stored.length);
    for (const [i, body] of pipelined.bodies.entries()) {
      if (!body.equals(expected[i]!)) expect.fail(`message ${i + 1} differs from the stored file`);
    }
  });

  it('non-pipelined gives the same UIDLs, sizes and bytes', async () => {
    const single = await retrieveAll(false);
    expect(single.uids).toEqual(pipelined.uids);
    expect(single.sizes).toEqual(pipelined.sizes);
    expect(digest(single.bodies)).toEqual(digest(pipelined.bodies));
  });

  it('TOP 0 of every message, pipelined, returns each header and its blank line', async () => {
    const client = await open(true);
    try {
      const headers = await Promise.all(expected.map(async (_, i) => collect(await client.top(i + 1, 0))));
      for (const [i, header] of headers.entries()) {
        if (!header.equals(topOf(expected[i]!, 0))) expect.fail(`TOP ${i + 1} 0 differs`);
      }
      await client.quit();
    } finally {
      client.close();
    }
  });

  it('keeps the mailbox intact after sessions without DELE', async () => {
    expect(await server.countMessages(USER)).toBe(stored.length);
  });
});

describe('Dovecot: single RETR and TOP', () => {
  it('RETR streams the 4 MiB message whole', async () => {
    const client = await open(true);
    try {
      const last = stored.length;
      const body = await collect(await client.retr(last));
      // Buffer#equals: a deep toEqual over 4 MiB takes vitest tens of seconds.
      expect(body.length).toBe(expected[last - 1]!.length);
      expect(body.equals(expected[last - 1]!)).toBe(true);
      await client.quit();
    } finally {
      client.close();
    }
  });

  it('TOP n returns the header, the blank line and the first n body lines', async () => {
    const client = await open(true);
    try {
      // 1: plain, 5: dot lines (a body that starts with "."), 4: raw UTF-8, 61: an LF-only file.
      for (const msg of [1, 4, 5, 61]) {
        for (const lines of [0, 1, 3]) {
          expect(await collect(await client.top(msg, lines))).toEqual(topOf(expected[msg - 1]!, lines));
        }
      }
      await client.quit();
    } finally {
      client.close();
    }
  });
});

describe('Dovecot: files the harness stores as they are', () => {
  // What expectedBytes() promises: bare LF becomes CRLF, a lone CR stays, an unterminated last line gets
  // CRLF, a line of just "." survives the byte-stuffing both ways.
  const edgeCases = [
    'Subject: no final newline\r\n\r\nlast line',
    'Subject: bare CR\r\n\r\nbefore\rafter\r\n',
    'Subject: LF only\n\nline one\n.\n..\nend\n',
    'Subject: mixed\r\n\nCRLF\r\nLF\n.\r\n',
  ].map((text) => Buffer.from(text));

  it('RETR returns exactly expectedBytes(stored) for each', async () => {
    await server.addMessages(EDGE_USER, edgeCases);
    const client = await open(true, EDGE_USER);
    try {
      for (const [i, stored] of edgeCases.entries()) {
        expect((await collect(await client.retr(i + 1))).toString('latin1')).toBe(
          server.expectedBytes(stored).toString('latin1'),
        );
      }
      await client.quit();
    } finally {
      client.close();
    }
  });
});

/** RFC 1939 §7: the header, the blank line after it, then `lines` lines of the body. */
function topOf(message: Buffer, lines: number): Buffer {
  const headerEnd = message.indexOf('\r\n\r\n') + 4;
  let end = headerEnd;
  for (let i = 0; i < lines && end < message.length; i++) {
    const next = message.indexOf('\r\n', end);
    end = next === -1 ? message.length : next + 2;
  }
  return message.subarray(0, end);
}
