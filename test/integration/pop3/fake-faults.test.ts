// Failure modes against the fake server: dropped connections, response codes, timeouts, bounds, aborts.
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { isPop3Error, Pop3Client, type Pop3ClientOptions } from '../../../src/pop3/index.ts';
import {
  type FakePop3Server,
  type FakeServerOptions,
  faults,
  multiline,
  startFakePop3Server,
} from '../../helpers/fake-pop3-server.ts';

let server: FakePop3Server | undefined;
let client: Pop3Client | undefined;

afterEach(async () => {
  client?.close();
  await server?.stop();
  server = undefined;
  client = undefined;
});

const BIG = `Subject: big\r\n\r\n${'0123456789abcdef'.repeat(4096)}\r\n`;

async function start(options: FakeServerOptions, clientOptions: Partial<Pop3ClientOptions> = {}) {
  server = await startFakePop3Server({ messages: ['Subject: a\r\n\r\nbody\r\n', BIG], ...options });
  return { host: server.host, port: server.port, tls: 'none' as const, ...clientOptions };
}

async function loggedIn(options: FakeServerOptions, clientOptions: Partial<Pop3ClientOptions> = {}) {
  client = await Pop3Client.connect(await start(options, clientOptions));
  await client.login({ username: 'alice', password: 'secret', allowPlaintextAuth: true });
  return client;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isPop3Error(error)) return error.code;
    throw error;
  }
  throw new Error('expected a Pop3Error');
}

describe('connection dropped', () => {
  it('mid-RETR: the body stream errors with POP3_CONNECTION_CLOSED, never ends cleanly', async () => {
    const c = await loggedIn({ overrides: { RETR: faults.dropMidRetr(200) } });
    const body = await c.retr(2);
    expect(await codeOf(readAll(body))).toBe('POP3_CONNECTION_CLOSED');
    expect(c.state).toBe('closed');
    expect(await codeOf(c.noop())).toBe('POP3_CONNECTION_CLOSED');
  });

  it('mid-RETR inside retrEach: rejects, and the handler never saw a complete body', async () => {
    const c = await loggedIn({ overrides: { RETR: faults.dropMidRetr(200) } });
    const completed: number[] = [];
    const run = c.retrEach([2], async (msg, body) => {
      await readAll(body);
      completed.push(msg);
    });
    expect(await codeOf(run)).toBe('POP3_CONNECTION_CLOSED');
    expect(completed).toEqual([]);
  });
});

describe('response codes', () => {
  for (const [responseCode, code, retryable] of [
    ['IN-USE', 'POP3_IN_USE', true],
    ['LOGIN-DELAY', 'POP3_LOGIN_DELAY', true],
    ['SYS/TEMP', 'POP3_SYS_TEMP', true],
    ['SYS/PERM', 'POP3_SYS_PERM', false],
    ['AUTH', 'POP3_AUTH_FAILED', false],
  ] as const) {
    it(`-ERR [${responseCode}] to PASS is ${code}, retryable ${retryable}`, async () => {
      client = await Pop3Client.connect(
        await start({ overrides: { PASS: faults.errWithCode(responseCode) } }),
      );
      const error = await client
        .login({ username: 'alice', password: 'secret', auth: 'user', allowPlaintextAuth: true })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code, retryable, responseCode, command: 'PASS ****' });
      expect(client.state).toBe('authorization');
    });
  }

  it('a plain -ERR to RETR is POP3_ERR and the session goes on', async () => {
    const c = await loggedIn({});
    expect(await codeOf(c.retr(99))).toBe('POP3_ERR');
    expect(await c.stat()).toMatchObject({ count: 2 });
  });
});

describe('timeouts', () => {
  it('a silent server gives POP3_GREETING_TIMEOUT', async () => {
    const options = await start({ silent: true }, { greetingTimeoutMs: 150 });
    expect(await codeOf(Pop3Client.connect(options))).toBe('POP3_GREETING_TIMEOUT');
  });

  it('an unanswered command gives POP3_COMMAND_TIMEOUT and closes the session', async () => {
    const c = await loggedIn({ overrides: { STAT: faults.silent() } }, { commandTimeoutMs: 150 });
    expect(await codeOf(c.stat())).toBe('POP3_COMMAND_TIMEOUT');
    expect(c.state).toBe('closed');
  });

  it('slow but steady replies are fine: the timeout is per reply, not per session', async () => {
    const c = await loggedIn({ delayMs: 60 }, { commandTimeoutMs: 150 });
    for (let i = 0; i < 4; i++) await c.noop();
    expect((await c.list()).length).toBe(2);
  });

  it('a slow consumer is not a server timeout (back-pressure pauses the idle timer)', async () => {
    const c = await loggedIn({}, { commandTimeoutMs: 100 });
    const body = await c.retr(2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await readAll(body)).toString()).toBe(BIG);
  });
});

describe('bounds', () => {
  it('an endless line gives POP3_LINE_TOO_LONG', async () => {
    const c = await loggedIn({ overrides: { NOOP: faults.endlessLine() } }, { maxLineBytes: 1024 });
    expect(await codeOf(c.noop())).toBe('POP3_LINE_TOO_LONG');
    expect(c.state).toBe('closed');
  });

  it('a listing past maxListingBytes gives POP3_LINE_TOO_LONG', async () => {
    const huge = () =>
      multiline('+OK', Array.from({ length: 5000 }, (_, i) => `${i + 1} uid-${i + 1}\r\n`).join(''));
    const c = await loggedIn({ overrides: { UIDL: huge } }, { maxListingBytes: 4096 });
    expect(await codeOf(c.uidl())).toBe('POP3_LINE_TOO_LONG');
  });

  it('garbage instead of a status line gives POP3_PROTOCOL', async () => {
    const c = await loggedIn({ overrides: { STAT: faults.garbage() } });
    expect(await codeOf(c.stat())).toBe('POP3_PROTOCOL');
  });

  it('maxBytes aborts RETR with POP3_MESSAGE_TOO_LARGE and closes the connection', async () => {
    const c = await loggedIn({});
    const small = await readAll(await c.retr(1, { maxBytes: 1000 }));
    expect(small.toString()).toBe('Subject: a\r\n\r\nbody\r\n');
    const body = await c.retr(2, { maxBytes: 1000 });
    expect(await codeOf(readAll(body))).toBe('POP3_MESSAGE_TOO_LARGE');
    expect(c.state).toBe('closed');
  });

  it('a body the handler destroys is drained and the session stays usable', async () => {
    const c = await loggedIn({ pipelining: false }, { pipelining: false });
    const seen: number[] = [];
    await c.retrEach([2, 1], async (msg, body) => {
      seen.push(msg);
      body.destroy();
    });
    expect(seen).toEqual([2, 1]);
    expect((await readAll(await c.retr(1))).toString()).toContain('body');
  });
});

describe('abort and close', () => {
  it('an already aborted signal stops connect with POP3_ABORTED', async () => {
    const options = await start({});
    expect(await codeOf(Pop3Client.connect({ ...options, signal: AbortSignal.abort() }))).toBe(
      'POP3_ABORTED',
    );
  });

  it('aborting a call in flight rejects it with POP3_ABORTED and closes the session', async () => {
    const c = await loggedIn({ overrides: { STAT: faults.silent() } });
    const controller = new AbortController();
    const pending = c.stat({ signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect(await codeOf(pending)).toBe('POP3_ABORTED');
    expect(c.state).toBe('closed');
  });

  it('the session signal aborts everything pending', async () => {
    const controller = new AbortController();
    const c = await loggedIn({ overrides: { STAT: faults.silent() } }, { signal: controller.signal });
    const pending = c.stat();
    controller.abort();
    expect(await codeOf(pending)).toBe('POP3_ABORTED');
  });

  it('close() is idempotent and rejects pending calls with POP3_CONNECTION_CLOSED', async () => {
    const c = await loggedIn({ overrides: { STAT: faults.silent() } });
    const pending = c.stat();
    c.close();
    c.close();
    expect(await codeOf(pending)).toBe('POP3_CONNECTION_CLOSED');
    expect(await codeOf(c.noop())).toBe('POP3_CONNECTION_CLOSED');
    expect(c.state).toBe('closed');
  });

  it('quit resolves only on +OK and throws on -ERR', async () => {
    const c = await loggedIn({ overrides: { QUIT: faults.errWithCode('SYS/TEMP', 'could not delete') } });
    await c.dele(1);
    expect(await codeOf(c.quit())).toBe('POP3_SYS_TEMP');
    expect(c.state).toBe('closed');
  });
});
