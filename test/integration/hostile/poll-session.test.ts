// Whole poll sessions (the real pollOnce: lock, connect, login, listing, DELE, RETR, raw store, ledger,
// enqueue, QUIT) against a hostile POP3 server and a private Redis. Whatever the server does, the session
// ends with a coded error or a correct result, and the promise holds: nothing is deleted on the server
// unless QUIT was answered, no UIDL is marked delivered or queued wrongly, no truncated message is stored,
// and the mailbox lock is released. One case runs through the real `pophook poll inbox --once` command.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type Config, type MailboxConfig, parseConfig } from '../../../src/config/index.ts';
import { connectMailbox, pollMailbox } from '../../../src/mailbox/poll.ts';
import { mailboxSettings, pollOnce } from '../../../src/mailbox/poll-job.ts';
import { isPop3Error, Pop3Client } from '../../../src/pop3/index.ts';
import { createRuntime, type Runtime } from '../../../src/runtime/runtime.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import {
  type FakePop3Server,
  type FakeServerOptions,
  multiline,
  startFakePop3Server,
} from '../../helpers/fake-pop3-server.ts';
import { startPophook } from '../../helpers/pophook-process.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';

const MESSAGES = [1, 2, 3].map((n) => ({ uid: `uid-${n}`, body: `Subject: m${n}\r\n\r\nbody ${n}\r\n` }));

let redis: RedisServer;
let rt: Runtime;
let dir: string;
let document: Record<string, unknown>;

beforeAll(async () => {
  redis = await startRedisServer();
  dir = await mkdtemp(join(tmpdir(), 'pophook-hostile-'));
  document = {
    redis: { url: redis.url, prefix: `hostile${randomBytes(3).toString('hex')}` },
    webhooks: {
      rx: { url: 'http://127.0.0.1:9/hook', secret: `whsec_${randomBytes(32).toString('base64')}` },
    },
    mailboxes: {
      inbox: {
        host: '127.0.0.1',
        port: 1,
        tls: 'none',
        allowPlaintextAuth: true,
        username: 'alice',
        password: 'secret',
        webhook: 'rx',
        connectTimeout: '2s',
        commandTimeout: '2s',
        maxMessageSize: '1MB',
      },
    },
  };
  const config: Config = await parseConfig(stringify(document), {
    env: {},
    baseDir: dir,
    sourceName: 'test',
  });
  rt = await createRuntime(config, silentLogger);
});

afterAll(async () => {
  await rt?.close();
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

let mailboxCount = 0;

/** A fake server holding MESSAGES, and a fresh mailbox whose ledger already says uid-1 was delivered. */
async function scenario(overrides: FakeServerOptions['overrides']) {
  const server = await startFakePop3Server({ messages: MESSAGES, overrides });
  const mailbox: MailboxConfig = {
    ...rt.config.mailboxes.inbox!,
    id: `mb${++mailboxCount}`,
    port: server.port,
  };
  await rt.pollState.ledger.markDelivered(mailbox.id, 'uid-1', { status: 200 });
  return { server, mailbox };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isPop3Error(error)) return error.code;
    throw error;
  }
  throw new Error('expected the session to fail');
}

/** The promise after a failed session: the server kept everything, only uid-1 is delivered, no stray bytes. */
async function expectNothingCommitted(server: FakePop3Server, mailbox: MailboxConfig): Promise<void> {
  expect(server.mailbox.map((m) => m.uid)).toEqual(['uid-1', 'uid-2', 'uid-3']);
  const entries = await rt.pollState.ledger.entries(mailbox.id);
  expect(entries.get('uid-1')?.state).toBe('delivered');
  for (const [uidl, entry] of entries) {
    if (uidl === 'uid-1') continue;
    // A message is queued only with its complete bytes stored.
    expect(entry.state).toBe('queued');
    const stored = await rt.pollState.raw.readBuffer(mailbox.id, uidl);
    expect(stored.toString()).toBe(MESSAGES.find((m) => m.uid === uidl)?.body);
  }
  for (const uidl of ['uid-2', 'uid-3']) {
    if (!entries.has(uidl)) expect(await rt.pollState.raw.exists(mailbox.id, uidl)).toBe(false);
  }
  expect(await rt.pollState.lock.holder(mailbox.id)).toBeNull();
}

describe('a poll session against a hostile server', () => {
  it('duplicate UIDLs: POP3_PROTOCOL before any DELE or RETR', async () => {
    const { server, mailbox } = await scenario({
      UIDL: () => multiline('+OK', '1 uid-1\r\n2 uid-1\r\n3 uid-3\r\n'),
    });
    expect(await codeOf(pollOnce(rt, mailbox))).toBe('POP3_PROTOCOL');
    expect(server.transcript.some((line) => /: (DELE|RETR)/.test(line))).toBe(false);
    await expectNothingCommitted(server, mailbox);
    await server.stop();
  });

  it('a non-numeric size in LIST: POP3_PROTOCOL, nothing committed', async () => {
    const { server, mailbox } = await scenario({ LIST: () => multiline('+OK', '1 10\r\n2 big\r\n3 10\r\n') });
    expect(await codeOf(pollOnce(rt, mailbox))).toBe('POP3_PROTOCOL');
    await expectNothingCommitted(server, mailbox);
    await server.stop();
  });

  it('a body with no terminator, then close: POP3_CONNECTION_CLOSED, the DELE before it not committed', async () => {
    const { server, mailbox } = await scenario({
      RETR: (command, session) => {
        if (command.args[0] !== '2') return undefined;
        session.socket.end('+OK\r\nSubject: m2\r\n\r\nbody');
        return null;
      },
    });
    expect(await codeOf(pollOnce(rt, mailbox))).toBe('POP3_CONNECTION_CLOSED');
    expect(server.transcript.some((line) => line.endsWith(': DELE 1'))).toBe(true);
    await expectNothingCommitted(server, mailbox);
    await server.stop();
  });

  it('a reply to a command never sent (an extra +OK after DELE): POP3_PROTOCOL, nothing committed', async () => {
    const { server, mailbox } = await scenario({ DELE: () => '+OK deleted\r\n+OK me too\r\n' });
    expect(await codeOf(pollOnce(rt, mailbox))).toBe('POP3_PROTOCOL');
    await expectNothingCommitted(server, mailbox);
    await server.stop();
  });

  it('a message far bigger than LIST said: POP3_MESSAGE_TOO_LARGE, then a dead letter the next session skips', async () => {
    const { server, mailbox } = await scenario({
      RETR: (command) =>
        command.args[0] === '2'
          ? multiline('+OK', `Subject: m2\r\n\r\n${`${'w'.repeat(998)}\r\n`.repeat(1500)}`)
          : undefined,
    });
    expect(await codeOf(pollOnce(rt, mailbox))).toBe('POP3_MESSAGE_TOO_LARGE');
    expect(server.mailbox.map((m) => m.uid)).toEqual(['uid-1', 'uid-2', 'uid-3']);
    const entry = await rt.pollState.ledger.get(mailbox.id, 'uid-2');
    expect(entry).toMatchObject({ state: 'dead', lastError: { code: 'MESSAGE_TOO_LARGE' } });
    expect(await rt.pollState.raw.exists(mailbox.id, 'uid-2')).toBe(false);
    expect(await rt.pollState.lock.holder(mailbox.id)).toBeNull();

    // The mailbox is not stuck: the next session deletes what was delivered and leaves the dead letter.
    const report = await pollOnce(rt, mailbox);
    expect(report.outcome).toBe('ok');
    expect(server.mailbox.map((m) => m.uid)).toEqual(['uid-2', 'uid-3']);
    expect((await rt.pollState.ledger.get(mailbox.id, 'uid-2'))?.state).toBe('dead');
    await server.stop();
  });

  it('a Redis write failing behind a later RETR: the session fails before QUIT, nothing deleted', async () => {
    const { server, mailbox } = await scenario({});
    const failing = Object.create(rt.pollState.raw) as typeof rt.pollState.raw;
    failing.write = async (mb, uidl, body, options) => {
      if (uidl !== 'uid-3') return rt.pollState.raw.write(mb, uidl, body, options);
      for await (const _chunk of body); // the bytes arrive, then the commit fails
      throw new Error('redis write refused');
    };
    const deps = {
      ...rt.pollState,
      raw: failing,
      queue: rt.queues,
      owner: 'test',
      now: Date.now,
      logger: silentLogger,
      connect: (m: MailboxConfig, signal: AbortSignal) => connectMailbox(m, signal),
    };
    await expect(
      pollMailbox(deps, mailbox, mailboxSettings(mailbox, rt.config.delivery.rawTtlMs)),
    ).rejects.toThrow('redis write refused');
    expect(server.transcript.some((line) => /QUIT/.test(line))).toBe(false);
    expect(server.mailbox.map((m) => m.uid)).toEqual(['uid-1', 'uid-2', 'uid-3']);
    expect((await rt.pollState.ledger.get(mailbox.id, 'uid-3'))?.state).toBeUndefined();
    expect(await rt.pollState.lock.holder(mailbox.id)).toBeNull();
    await server.stop();
  });

  it('STAT says 5, LIST lists 3: the session works from LIST and UIDL and succeeds', async () => {
    const { server, mailbox } = await scenario({ STAT: () => '+OK 5 999\r\n' });
    const report = await pollOnce(rt, mailbox);
    expect(report.result).toMatchObject({ listed: 3, fetched: 2, deleted: 1 });
    expect(server.mailbox.map((m) => m.uid)).toEqual(['uid-2', 'uid-3']);
    const entries = await rt.pollState.ledger.entries(mailbox.id);
    expect([...entries.keys()].sort()).toEqual(['uid-2', 'uid-3']);
    expect((await rt.pollState.raw.readBuffer(mailbox.id, 'uid-2')).toString()).toBe(MESSAGES[1]!.body);
    await server.stop();
  });

  it('a server that trickles a RETR body forever: POP3_SESSION_TIMEOUT, the lock released', async () => {
    const { server, mailbox } = await scenario({
      RETR: (_command, session) => {
        session.socket.write('+OK\r\n');
        const timer = setInterval(() => session.socket.write('.'), 100);
        session.socket.on('close', () => clearInterval(timer));
        return null;
      },
    });
    const deps = {
      ...rt.pollState,
      queue: rt.queues,
      owner: 'test',
      now: Date.now,
      logger: silentLogger,
      // connectMailbox with a short session deadline (the default is 30 minutes).
      connect: async (m: MailboxConfig, signal: AbortSignal) => {
        const client = await Pop3Client.connect({
          host: m.host,
          port: m.port,
          tls: 'none',
          signal,
          sessionTimeoutMs: 1_500,
        });
        await client.login({ username: m.username, password: m.password!, allowPlaintextAuth: true });
        return client;
      },
    };
    const started = Date.now();
    expect(
      await codeOf(pollMailbox(deps, mailbox, mailboxSettings(mailbox, rt.config.delivery.rawTtlMs))),
    ).toBe('POP3_SESSION_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(4_000);
    await expectNothingCommitted(server, mailbox);
    await server.stop();
  });

  it('pophook poll inbox --once against duplicate UIDLs exits 1 naming POP3_PROTOCOL', async () => {
    const { server, mailbox } = await scenario({ UIDL: () => multiline('+OK', '1 uid-1\r\n2 uid-1\r\n') });
    const configPath = join(dir, 'pophook.yml');
    const inbox = { ...(document.mailboxes as { inbox: object }).inbox, port: server.port };
    await writeFile(configPath, stringify({ ...document, mailboxes: { [mailbox.id]: inbox } }));
    const cli = startPophook(['poll', mailbox.id, '--once', '--config', configPath]);
    expect(await cli.exited).toBe(1);
    expect(cli.text.join('\n')).toMatch(/POP3_PROTOCOL/);
    await expectNothingCommitted(server, mailbox);
    await server.stop();
  });

  it('connectMailbox (the real login path) works against the same fake server: the cases above can pass', async () => {
    const { server, mailbox } = await scenario({});
    const client = await connectMailbox(mailbox, AbortSignal.timeout(5_000));
    expect(await client.stat()).toEqual({ count: 3, size: expect.any(Number) });
    await client.quit();
    await server.stop();
  });
});
