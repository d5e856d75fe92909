// The replies to a login that decide what happens next (RFC 2449 §8.1 AUTH-RESP-CODE, IN-USE, LOGIN-DELAY;
// RFC 3206 SYS/TEMP, SYS/PERM, AUTH), each from the scriptable fake POP3 server, through the real pollOnce
// and a private Redis: the state, streak and next login `pophook status` prints, the pophook_mailbox_state
// gauge, the poll counter and /readyz; a LOGIN-DELAY capability honoured by the poll gate; a server EXPIRE
// in keep mode warned about once and shown in status; and recovery once the server lets the login through.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollOnce, runPollJob } from '../../../src/mailbox/poll-job.ts';
import { PophookMetrics } from '../../../src/ops/metrics.ts';
import { Ops } from '../../../src/ops/ops.ts';
import { readSnapshot, snapshotSources } from '../../../src/ops/snapshot.ts';
import type { Runtime } from '../../../src/runtime/runtime.ts';
import type { Logger } from '../../../src/telemetry/logger.ts';
import { type FakePop3Server, startFakePop3Server } from '../../helpers/fake-pop3-server.ts';
import { inProcessDeployment, plainTextMailbox } from '../../helpers/in-process.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';
import { cli } from '../../helpers/run-cli.ts';

const PASSWORD = 'login-replies-pw';
/** What each mailbox's server answers to PASS; undefined: the default (+OK for the right password). */
const passReplies: Record<string, string | undefined> = {
  creds: '-ERR [AUTH] Invalid credentials\r\n',
  plain: '-ERR bad password\r\n',
  temp: '-ERR [SYS/TEMP] Service unavailable, try again later\r\n',
  perm: '-ERR [SYS/PERM] Account disabled by the administrator\r\n',
  inuse: '-ERR [IN-USE] Mailbox locked by another session\r\n',
  delay: undefined,
  keeper: undefined,
  deleter: undefined,
};
/** delay: LOGIN-DELAY 600 s; keeper and deleter: the server expires retrieved messages after 30 days. */
const CAPABILITIES: Record<string, string[]> = {
  delay: ['LOGIN-DELAY 600'],
  keeper: ['EXPIRE 30'],
  deleter: ['EXPIRE 30'],
};

interface Logged {
  level: string;
  msg?: string;
  fields: Record<string, unknown>;
}
const logged: Logged[] = [];
function capturingLogger(bindings: Record<string, unknown> = {}): Logger {
  const at =
    (level: string) =>
    (first: Record<string, unknown> | string, msg?: string): void => {
      const fields = typeof first === 'string' ? {} : first;
      const text = typeof first === 'string' ? first : msg;
      logged.push({
        level,
        ...(text === undefined ? {} : { msg: text }),
        fields: { ...bindings, ...fields },
      });
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => capturingLogger({ ...bindings, ...more }),
  };
}

let redis: RedisServer;
let rt: Runtime;
let dir: string;
let configPath: string;
const servers: FakePop3Server[] = [];

beforeAll(async () => {
  [redis, dir] = await Promise.all([
    startRedisServer({ appendonly: true }),
    mkdtemp(join(tmpdir(), 'pophook-login-')),
  ]);
  const ids = Object.keys(passReplies);
  servers.push(
    ...(await Promise.all(
      ids.map((id) =>
        startFakePop3Server({
          users: { alice: PASSWORD },
          messages: [{ uid: `${id}-1`, body: `Subject: ${id}\r\n\r\nhello\r\n` }],
          ...(CAPABILITIES[id]
            ? { capabilities: ['USER', 'RESP-CODES', 'AUTH-RESP-CODE', 'UIDL', 'TOP', ...CAPABILITIES[id]] }
            : {}),
          overrides: { PASS: () => passReplies[id] },
        }),
      ),
    )),
  );
  const document = {
    redis: { url: redis.url, prefix: `login${randomBytes(3).toString('hex')}` },
    webhooks: {
      rx: { url: 'http://127.0.0.1:9/hook', secret: `whsec_${randomBytes(32).toString('base64')}` },
    },
    mailboxes: Object.fromEntries(
      ids.map((id, i) => [
        id,
        {
          ...plainTextMailbox(servers[i]!.port, PASSWORD),
          connectTimeout: '2s',
          commandTimeout: '2s',
          delete: id !== 'keeper',
        },
      ]),
    ),
  };
  ({ configPath, rt } = await inProcessDeployment(document, dir, capturingLogger()));
});

afterAll(async () => {
  await rt?.close();
  await Promise.all([...servers.map((s) => s.stop()), redis?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const mailbox = (id: string) => rt.config.mailboxes[id]!;

/** One poll as `pophook poll ID --once` runs it; a refusal that fails the poll resolves to its code. */
async function poll(id: string): Promise<string> {
  try {
    return (await pollOnce(rt, mailbox(id))).outcome;
  } catch (error) {
    return (error as { code: string }).code;
  }
}

/** The row of a mailbox in `pophook status`, and the whole text. */
async function status(): Promise<{ text: string; row: (id: string) => string }> {
  const result = await cli(['status', '--config', configPath]);
  expect(result.code).toBe(0);
  const lines = result.stdout.split('\n');
  return { text: result.stdout, row: (id) => lines.find((line) => line.startsWith(`${id} `)) ?? '' };
}

async function metricsText(metrics = new PophookMetrics(undefined, { processMetrics: false })) {
  metrics.setState(await readSnapshot(snapshotSources(rt)));
  return metrics.registry.metrics();
}

describe('login replies', () => {
  it('each refusal gets its own state, backoff and next login, in status and the metric', async () => {
    const metrics = new PophookMetrics(undefined, { processMetrics: false });
    const observer = {
      poll: (o: Parameters<typeof metrics.observePoll>[0]) => metrics.observePoll(o),
      delivery() {},
    };
    expect(await poll('creds')).toBe('POP3_AUTH_FAILED');
    expect(await poll('plain')).toBe('POP3_AUTH_FAILED');
    // Through the poll worker's job, so the counter carries the refusal as its outcome.
    await expect(runPollJob(rt, observer, { mailbox: 'temp', reason: 'schedule' })).rejects.toMatchObject({
      code: 'POP3_SYS_TEMP',
    });
    expect(await poll('perm')).toBe('POP3_SYS_PERM');
    expect(await poll('inuse')).toBe('in-use');

    const { text, row } = await status();
    // One poll interval, give or take the seconds `status` takes to start on a busy machine.
    const MINUTE = '(60|5\\d) s';
    expect(row('creds')).toMatch(new RegExp(` credentials POP3_AUTH_FAILED, next login in ${MINUTE} `));
    expect(row('plain')).toMatch(new RegExp(` credentials POP3_AUTH_FAILED, next login in ${MINUTE} `));
    expect(row('temp')).toMatch(new RegExp(` temporary POP3_SYS_TEMP, next login in ${MINUTE} `));
    expect(row('perm')).toMatch(/ blocked POP3_SYS_PERM, next login in 60 min /);
    expect(row('inuse')).toMatch(new RegExp(` in-use POP3_IN_USE, next login in ${MINUTE} `));
    // The server's own words, under the table.
    expect(text).toContain('\n  perm: POP3_SYS_PERM: Account disabled by the administrator\n');
    expect(text).toContain('\n  creds: POP3_AUTH_FAILED: Invalid credentials\n');
    expect(text).toContain('\n  temp: POP3_SYS_TEMP: Service unavailable, try again later\n');

    const scraped = await metricsText(metrics);
    for (const [id, state] of [
      ['creds', 'credentials'],
      ['plain', 'credentials'],
      ['temp', 'temporary'],
      ['perm', 'blocked'],
      ['inuse', 'in-use'],
    ]) {
      expect(scraped).toContain(`pophook_mailbox_state{mailbox="${id}",state="${state}"} 1`);
      expect(scraped).toContain(`pophook_mailbox_state{mailbox="${id}",state="ok"} 0`);
    }
    expect(scraped).toContain('pophook_polls_total{mailbox="temp",outcome="temporary"} 1');

    // /readyz: refused until someone acts fails at once; a temporary refusal only once it is stale.
    const ready = await (await Ops.create(rt, { roles: new Set(['poll']), onFatal() {} })).readiness();
    const failing = ready.checks.filter((c) => !c.ok);
    expect(failing.map((c) => c.name).sort()).toEqual(['mailbox:creds', 'mailbox:perm', 'mailbox:plain']);
    expect(failing.find((c) => c.name === 'mailbox:perm')!.detail).toBe(
      'blocked POP3_SYS_PERM, next login in 60 min: Account disabled by the administrator (operator action needed)',
    );

    // The logs say what happened and when the next login is, once per refused poll.
    const warned = logged.filter((l) => l.fields.mailbox === 'perm' && l.level === 'warn');
    expect(warned).toHaveLength(1);
    expect(warned[0]!.msg).toMatch(/\[SYS\/PERM\]/);
    expect(warned[0]!.fields).toMatchObject({ outcome: 'blocked', code: 'POP3_SYS_PERM' });
    expect(String(warned[0]!.fields.nextLoginAt)).toMatch(/^\d{4}-/);
  });

  it('a refusal again doubles the wait ([AUTH] up to an hour, [IN-USE] up to four intervals)', async () => {
    expect(await poll('creds')).toBe('POP3_AUTH_FAILED');
    expect(await poll('creds')).toBe('POP3_AUTH_FAILED');
    expect(await poll('inuse')).toBe('in-use');
    expect(await poll('inuse')).toBe('in-use');
    expect(await poll('inuse')).toBe('in-use');
    const { row } = await status();
    expect(row('creds')).toMatch(/ credentials POP3_AUTH_FAILED ×3, next login in 4 min /);
    expect(row('inuse')).toMatch(/ in-use POP3_IN_USE ×4, next login in 4 min /);
    // The scheduled poll waits for that time: no login, the job only deferred.
    const sessions = servers[0]!.sessions.length;
    const observer = { poll() {}, delivery() {} };
    expect(await runPollJob(rt, observer, { mailbox: 'creds', reason: 'schedule' })).toEqual({
      outcome: 'deferred',
    });
    expect(servers[0]!.sessions.length).toBe(sessions);
  });

  it('recovers once the server takes the login: ok, the refusal only as past, the metric back to ok', async () => {
    passReplies.creds = undefined;
    passReplies.perm = undefined;
    // `pophook poll --once` logs in at once, whatever the backoff.
    expect(await poll('creds')).toBe('ok');
    expect(await poll('perm')).toBe('ok');
    const { text, row } = await status();
    expect(row('creds')).toMatch(/ ok \(past: POP3_AUTH_FAILED ×3, \d+ s ago\) /);
    expect(row('perm')).toMatch(/ ok \(past: POP3_SYS_PERM, \d+ s ago\) /);
    expect(text).not.toContain('Account disabled');
    const scraped = await metricsText();
    expect(scraped).toContain('pophook_mailbox_state{mailbox="creds",state="ok"} 1');
    expect(scraped).toContain('pophook_mailbox_state{mailbox="creds",state="credentials"} 0');
    expect(scraped).toContain('pophook_mailbox_state{mailbox="perm",state="blocked"} 0');
  });

  it('LOGIN-DELAY: the announced wait holds the next scheduled login; a [LOGIN-DELAY] refusal waits at least as long', async () => {
    expect(await poll('delay')).toBe('ok');
    let { row } = await status();
    expect(row('delay')).toMatch(/ ok, next login in 10 min /);
    const sessions = servers[Object.keys(passReplies).indexOf('delay')]!.sessions;
    const before = sessions.length;
    const observer = { poll() {}, delivery() {} };
    expect(await runPollJob(rt, observer, { mailbox: 'delay', reason: 'schedule' })).toEqual({
      outcome: 'deferred',
    });
    expect(sessions.length).toBe(before);

    passReplies.delay = '-ERR [LOGIN-DELAY] Too soon, wait a while\r\n';
    expect(await poll('delay')).toBe('login-delay');
    ({ row } = await status());
    expect(row('delay')).toMatch(/ login-delay POP3_LOGIN_DELAY, next login in 10 min /);
    expect(await metricsText()).toContain('pophook_mailbox_state{mailbox="delay",state="login-delay"} 1');
  });

  it('an early poll that finds another session in the mailbox asks for another; a scheduled one does not', async () => {
    const other = await rt.pollState.lock.acquire('keeper', 'another-host:1');
    expect(other).not.toBeNull();
    const observer = { poll() {}, delivery() {} };
    try {
      const before = await rt.queues.poll.getDelayedCount();
      expect(await runPollJob(rt, observer, { mailbox: 'keeper', reason: 'schedule' })).toEqual({
        outcome: 'locked',
      });
      expect(await rt.queues.poll.getDelayedCount()).toBe(before);
      // That session may have read the ledger before the deliveries that asked for this poll.
      expect(await runPollJob(rt, observer, { mailbox: 'keeper', reason: 'early' })).toEqual({
        outcome: 'locked',
      });
      const delayed = await rt.queues.poll.getDelayed();
      expect(delayed.map((job) => job.data)).toContainEqual({ mailbox: 'keeper', reason: 'early' });
    } finally {
      await other?.release();
    }
  });

  it('EXPIRE in keep mode: warned once (not every poll) and shown in status; delete mode says nothing', async () => {
    expect(await poll('keeper')).toBe('ok');
    expect(await poll('keeper')).toBe('ok');
    expect(await poll('deleter')).toBe('ok');
    const warnings = logged.filter((l) => l.level === 'warn' && /EXPIRE/.test(l.msg ?? ''));
    expect(warnings.map((w) => [w.fields.mailbox, w.fields.expire])).toEqual([['keeper', '30']]);
    const { text, row } = await status();
    expect(row('keeper')).toMatch(/ ok /);
    expect(text).toContain(
      '\n  keeper: the server removes retrieved messages after 30 days (EXPIRE 30), although delete: false\n',
    );
    expect(text).not.toContain('deleter: the server removes');
  });
});
