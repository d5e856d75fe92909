// The real `pophook` binary given broken configurations and command lines: a non-zero exit, every broken
// field named by its path on stderr, nothing started (redis.url points at a plain TCP listener that counts
// connections: it must see none), and no secret value echoed. Then `pophook check` against a real Dovecot,
// Redis and receiver: exit 0 with a good config, exit 1 with a wrong POP3 password (the server's reply
// shown, the password nowhere).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type DovecotServer, startDovecot } from '../../helpers/dovecot.ts';
import { startPophook, writeTestConfig } from '../../helpers/pophook-process.ts';
import { type Receiver, startReceiver } from '../../helpers/receiver.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';

const SECRETS = {
  port: 'port-value-zq81',
  password: 'pop3-pass-zq82',
  header: 'bearer-token-zq83',
  webhook: 'whsec_not*base64*zq84',
};

let dir: string;
let counter: Server;
let connections = 0;
let counterUrl: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pophook-bad-input-'));
  counter = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => counter.listen(0, '127.0.0.1', resolve));
  counterUrl = `redis://127.0.0.1:${(counter.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => counter.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

/** Runs pophook to its exit; returns the code and everything it printed. */
async function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; output: string }> {
  // In an empty directory: no ./pophook.yml to fall back on.
  const child = startPophook(args, { POPHOOK_CONFIG: undefined, REDIS_URL: undefined, ...env }, dir);
  const code = await child.exited;
  return { code, output: [...child.text, ...child.logs.map((line) => JSON.stringify(line))].join('\n') };
}

async function configFile(name: string, document: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, stringify(document));
  return path;
}

const BROKEN = () => ({
  redis: { url: counterUrl, prefix: 'bad input' },
  extra: true,
  webhooks: {
    rx: {
      url: 'ftp://example.test/hook',
      secret: SECRETS.webhook,
      timeout: 5,
      headers: { Authorization: `Bearer ${SECRETS.header}`, 'Bad Header': 'x' },
    },
    filed: { url: 'http://127.0.0.1:9/', secretFile: join(dir, 'no-such-secret') },
  },
  delivery: { concurrency: true, parseTimeout: 'soon' },
  mailboxes: {
    inbox: {
      host: 'pop.example.test',
      port: '${BAD_PORT}',
      username: 'alice',
      password: '${UNSET_POP3_PASSWORD}',
      pasword: 'typo',
      pollInterval: 'every minute',
      commandTimeout: '-5s',
      webhook: 'nope',
    },
    other: { host: 'pop.example.test', username: 'bob', passwordFile: join(dir, 'missing'), webhook: 'rx' },
  },
});

const BROKEN_PATHS = [
  'extra',
  'redis.prefix',
  'webhooks.rx.url',
  'webhooks.rx.secret',
  'webhooks.rx.timeout',
  'webhooks.rx.headers["Bad Header"]',
  'webhooks.filed.secretFile',
  'delivery.concurrency',
  'delivery.parseTimeout',
  'mailboxes.inbox.port',
  'mailboxes.inbox.password',
  'mailboxes.inbox.pasword',
  'mailboxes.inbox.pollInterval',
  'mailboxes.inbox.commandTimeout',
  'mailboxes.inbox.webhook',
  'mailboxes.other.passwordFile',
];

describe('broken configurations', () => {
  const COMMANDS = [
    ['run'],
    ['check'],
    ['poll', 'inbox', '--once'],
    ['dlq', 'list'],
    ['worker', '--role', 'deliver'],
  ];

  it('every command: exit 1, every path named, no Redis connection attempted, no secret echoed', async () => {
    const path = await configFile('broken.yml', BROKEN());
    const before = connections;
    const results = await Promise.all(
      COMMANDS.map((command) => run([...command, '--config', path], { BAD_PORT: SECRETS.port })),
    );
    for (const [index, { code, output }] of results.entries()) {
      const label = COMMANDS[index]!.join(' ');
      expect(code, label).toBe(1);
      expect(output, label).toMatch(/CONFIG_INVALID/);
      for (const field of BROKEN_PATHS) expect(output, `${label}: ${field}`).toContain(`  ${field}: `);
      for (const secret of Object.values(SECRETS)) expect(output, label).not.toContain(secret);
    }
    expect(connections - before).toBe(0);
  });

  it('a missing configuration file: CONFIG_UNREADABLE, exit 1', async () => {
    const { code, output } = await run(['run', '--config', join(dir, 'absent.yml')]);
    expect(code).toBe(1);
    expect(output).toMatch(/CONFIG_UNREADABLE/);
  });

  it('a bad redis URL is named by its path, and REDIS_URL is named as its source', async () => {
    const document = { ...BROKEN(), extra: undefined };
    const path = await configFile('bad-redis.yml', { ...document, redis: { url: 'http://127.0.0.1:1' } });
    const [{ code, output }, fromEnv] = await Promise.all([
      run(['run', '--config', path]),
      run(['run', '--config', path], { REDIS_URL: 'mongodb://x' }),
    ]);
    expect(code).toBe(1);
    expect(output).toContain('  redis.url: ');
    expect(fromEnv.output).toMatch(/ {2}redis\.url: .*REDIS_URL/);
  });
});

describe('command line', () => {
  it('no command, or an unknown one: exit 2 with the usage', async () => {
    const [none, unknown] = await Promise.all([run([]), run(['frobnicate', '--config', 'x.yml'])]);
    expect(none.code).toBe(2);
    expect(none.output).toMatch(/Usage: pophook <command>/);
    expect(unknown.code).toBe(2);
    expect(unknown.output).toMatch(/frobnicate/);
    expect(unknown.output).toMatch(/Usage: pophook <command>/);
  });

  it('no --config and no POPHOOK_CONFIG: exit 2 with the usage, for every config-driven command', async () => {
    const commands = [['run'], ['check'], ['dlq', 'list'], ['poll', 'inbox', '--once']];
    const results = await Promise.all(commands.map((command) => run(command)));
    for (const [index, { code, output }] of results.entries()) {
      const label = commands[index]!.join(' ');
      expect(code, label).toBe(2);
      expect(output, label).toMatch(/--config/);
      expect(output, label).toMatch(/Usage: pophook/);
    }
  });
});

describe('pophook check against real servers', () => {
  const USER = 'alice';
  const PASSWORD = 'check-pass-zq85';
  const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
  let dovecot: DovecotServer;
  let redis: RedisServer;
  let receiver: Receiver;

  beforeAll(async () => {
    [dovecot, redis, receiver] = await Promise.all([
      startDovecot({ users: { [USER]: PASSWORD } }),
      startRedisServer({ appendonly: true }),
      startReceiver({ secret: WEBHOOK_SECRET }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([dovecot?.stop(), redis?.stop(), receiver?.stop()]);
  });

  async function checkWith(password: string) {
    const path = await writeTestConfig({
      dir,
      redisUrl: redis.url,
      prefix: `check${randomBytes(3).toString('hex')}`,
      webhookUrl: receiver.url,
      secret: WEBHOOK_SECRET,
      pop3: { port: dovecot.pop3Port, caPem: dovecot.caPem, username: USER, password },
    });
    return run(['check', '--config', path]);
  }

  it('a good config: exit 0', async () => {
    const { code, output } = await checkWith(PASSWORD);
    expect(output).toMatch(/^ok +mailbox inbox: TLS/m);
    expect(code).toBe(0);
    expect(output).not.toContain(PASSWORD);
    expect(output).not.toContain(WEBHOOK_SECRET);
  });

  it('a wrong POP3 password: exit 1, POP3_AUTH_FAILED with the server reply, the password absent', async () => {
    const wrong = 'wrong-pass-zq86';
    const { code, output } = await checkWith(wrong);
    expect(code).toBe(1);
    expect(output).toMatch(/^FAIL +mailbox inbox: POP3_AUTH_FAILED: .*server said: /m);
    expect(output).not.toContain(wrong);
    expect(output).not.toContain(Buffer.from(wrong).toString('base64'));
    expect(output).not.toContain(Buffer.from(`\0${USER}\0${wrong}`).toString('base64'));
  });
});
