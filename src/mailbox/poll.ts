// A poll of one mailbox from start to end: the fleet-wide lock, connect and login, the session, and the
// outcome. Server answers that mean "later" ([IN-USE], [LOGIN-DELAY], RFC 3206) are outcomes, not failures.
import { setMaxListeners } from 'node:events';
import type { MailboxConfig } from '../config/index.ts';
import type { MailboxLock } from '../ledger/index.ts';
import { type MailboxTokens, withMailboxToken } from '../oauth/index.ts';
import { isPop3Error, Pop3Client } from '../pop3/index.ts';
import { honouredLoginDelayMs, notBeforeAfterRefusal, notBeforeAfterSession } from './poll-policy.ts';
import { runSession } from './session.ts';
import type { MailboxSettings, SessionDeps, SessionResult } from './types.ts';

export type PollOutcome = 'ok' | 'locked' | 'in-use' | 'login-delay';

export interface PollReport {
  mailbox: string;
  outcome: PollOutcome;
  durationMs: number;
  result?: SessionResult;
  /** Don't log in again before this epoch ms (LOGIN-DELAY announced or demanded). */
  notBefore?: number;
}

export interface PollDeps extends SessionDeps {
  lock: MailboxLock;
  /** Who holds the lock, for `status` and logs: host, pid, worker id. */
  owner: string;
  connect(mailbox: MailboxConfig, signal: AbortSignal): Promise<Pop3Client>;
}

export async function pollMailbox(
  deps: PollDeps,
  mailbox: MailboxConfig,
  settings: MailboxSettings,
  options: { signal?: AbortSignal } = {},
): Promise<PollReport> {
  const started = deps.now();
  const report = (outcome: PollOutcome, extra: Partial<PollReport> = {}): PollReport => ({
    mailbox: mailbox.id,
    outcome,
    durationMs: deps.now() - started,
    ...extra,
  });
  const lease = await deps.lock.acquire(mailbox.id, deps.owner);
  if (!lease) return report('locked');
  try {
    const signal = options.signal ? AbortSignal.any([options.signal, lease.signal]) : lease.signal;
    // Every pipelined RETR and background store listens to it; dozens of listeners are expected here.
    setMaxListeners(1_000, signal);
    const client = await deps.connect(mailbox, signal);
    try {
      const result = await runSession(deps, settings, client, signal);
      const delayMs = honouredLoginDelayMs(result.loginDelayMs, mailbox.loginDelay);
      const notBefore = notBeforeAfterSession(started, delayMs);
      return report('ok', { result, ...(notBefore === undefined ? {} : { notBefore }) });
    } finally {
      client.close();
    }
  } catch (error) {
    if (isPop3Error(error, 'POP3_IN_USE')) return report('in-use');
    if (isPop3Error(error, 'POP3_LOGIN_DELAY')) {
      return report('login-delay', { notBefore: notBeforeAfterRefusal(deps.now(), mailbox.pollIntervalMs) });
    }
    throw error;
  } finally {
    await lease.release();
  }
}

/**
 * Opens and authenticates a POP3 session for a configured mailbox. A mailbox with a credential logs in
 * with a token from `tokens` (one forced refresh and one more login after a refusal, see src/oauth/login.ts).
 */
export async function connectMailbox(
  mailbox: MailboxConfig,
  signal: AbortSignal,
  logger?: SessionDeps['logger'],
  tokens?: MailboxTokens,
): Promise<Pop3Client> {
  return withMailboxToken(
    mailbox,
    tokens,
    (accessToken) => openSession(mailbox, accessToken, signal, logger),
    signal,
  );
}

async function openSession(
  mailbox: MailboxConfig,
  accessToken: string | undefined,
  signal: AbortSignal,
  logger?: SessionDeps['logger'],
): Promise<Pop3Client> {
  const client = await Pop3Client.connect({
    host: mailbox.host,
    port: mailbox.port,
    tls: mailbox.tls,
    ...(mailbox.caPem === undefined ? {} : { ca: mailbox.caPem }),
    ...(mailbox.servername === undefined ? {} : { servername: mailbox.servername }),
    connectTimeoutMs: mailbox.connectTimeoutMs,
    greetingTimeoutMs: mailbox.connectTimeoutMs,
    commandTimeoutMs: mailbox.commandTimeoutMs,
    sessionTimeoutMs: mailbox.sessionTimeoutMs,
    ...(logger ? { logger } : {}),
    signal,
  });
  try {
    await client.login(
      {
        username: mailbox.username,
        ...(mailbox.password === undefined ? {} : { password: mailbox.password }),
        ...(accessToken === undefined ? {} : { accessToken }),
        auth: mailbox.auth,
        allowPlaintextAuth: mailbox.allowPlaintextAuth,
      },
      { signal },
    );
    return client;
  } catch (error) {
    client.close();
    throw error;
  }
}
