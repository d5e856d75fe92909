// A poll of one mailbox from start to end: the fleet-wide lock, connect and login, the session, and the
// outcome. Refusals of the login that only mean "not now" ([IN-USE], [LOGIN-DELAY]: poll-policy.ts) are
// outcomes, not failures; what they and the other refusals mean for the next login is poll-job's to record.
import { setMaxListeners } from 'node:events';
import type { MailboxConfig } from '../config/index.ts';
import type { MailboxLock } from '../ledger/index.ts';
import { type MailboxTokens, withMailboxToken } from '../oauth/index.ts';
import { Pop3Client, printable } from '../pop3/index.ts';
import { honouredLoginDelayMs, isNotNow, loginRefusal, notBeforeAfterSession } from './poll-policy.ts';
import { runSession } from './session.ts';
import type { MailboxSettings, SessionDeps, SessionResult } from './types.ts';

export type PollOutcome = 'ok' | 'locked' | 'in-use' | 'login-delay';

export interface PollReport {
  mailbox: string;
  outcome: PollOutcome;
  durationMs: number;
  result?: SessionResult;
  /** Don't log in again before this epoch ms (the LOGIN-DELAY the server announced). */
  notBefore?: number;
  /** in-use and login-delay: the refusal's code and the server's text. */
  refusal?: { code: string; text?: string };
  /** The server's EXPIRE after the login (RFC 2449 §6.7), as announced. */
  expire?: string;
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
      const { expire } = client.capabilities;
      return report('ok', {
        result,
        ...(notBefore === undefined ? {} : { notBefore }),
        ...(expire === undefined ? {} : { expire }),
      });
    } finally {
      client.close();
    }
  } catch (error) {
    const refusal = loginRefusal(error as { code?: unknown; command?: unknown });
    if (!isNotNow(refusal)) throw error;
    return report(refusal, { refusal: failureFacts(error, mailbox) });
  } finally {
    await lease.release();
  }
}

/**
 * A failure's code and text for `status`: the POP3 server's text after -ERR, or the token endpoint's (already
 * scrubbed, src/oauth/failure.ts); control characters replaced, bounded, and the mailbox's own secrets
 * masked should a server echo them.
 */
export function failureFacts(error: unknown, mailbox: MailboxConfig): { code: string; text?: string } {
  const { code, serverText, details } = error as {
    code?: unknown;
    serverText?: unknown;
    details?: { providerText?: unknown };
  };
  const facts = { code: typeof code === 'string' ? code : 'UNKNOWN' };
  const raw = typeof serverText === 'string' ? serverText : details?.providerText;
  if (typeof raw !== 'string' || raw.trim() === '') return facts;
  // Masked before it is cut short, so no part of a secret survives at the cut.
  let text = raw.trim();
  for (const secret of [mailbox.password, mailbox.accessToken]) {
    if (secret !== undefined && secret.length >= 4) text = text.replaceAll(secret, '****');
  }
  return { ...facts, text: printable(text) };
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
