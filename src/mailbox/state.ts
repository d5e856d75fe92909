// What state a mailbox is in, decided here once for every view (`pophook status`, the dashboard, /readyz
// and the metrics): from its meta hash and, for a mailbox that logs in with an OAuth credential, the
// credential's status in the fleet token cache. Also what the server's EXPIRE means for a keep-mode mailbox.
import type { CredentialStatus } from '../oauth/index.ts';
import { expireDays } from '../pop3/index.ts';
import { errorIsPast, type MailboxMeta } from './meta.ts';
import { LOGIN_REFUSALS, type LoginRefusal } from './poll-policy.ts';

/**
 * new: never polled; ok: the last poll went through (or is under way elsewhere); error: the last poll
 * failed (connection, TLS, a session cut short); the login refusals of poll-policy.ts: credentials,
 * temporary, in-use, login-delay, blocked.
 */
export type MailboxStateName = 'new' | 'ok' | 'error' | LoginRefusal;

export const MAILBOX_STATES: readonly MailboxStateName[] = ['new', 'ok', 'error', ...LOGIN_REFUSALS];

/** States nothing but an operator mends: the credentials or the server refuse until someone acts. */
export const OPERATOR_STATES: ReadonlySet<MailboxStateName> = new Set<MailboxStateName>([
  'credentials',
  'blocked',
]);

export interface MailboxState {
  state: MailboxStateName;
  /** The failure behind any state but new and ok: POP3_AUTH_FAILED, OAUTH_INVALID_GRANT, POP3_SYS_PERM… */
  code?: string;
  /** The server's or the token endpoint's text with it, secrets masked. */
  text?: string;
  /** Polls in a row that failed. */
  failures?: number;
  /** No login before this (a refusal's backoff, LOGIN-DELAY, a refused credential held back); future only. */
  nextLoginAt?: number;
  /** An ok mailbox's last failure, which an ok poll has put in the past. */
  past?: { code: string; at: number; failures?: number };
}

const REFUSALS: ReadonlySet<string> = new Set(LOGIN_REFUSALS);

/**
 * The state of a mailbox at `now`. A credential the token endpoint refuses for good (invalid_client,
 * invalid_grant…) puts the mailbox in `credentials` whatever its last poll said: no login can succeed once
 * its current token runs out. `credential` is the status of the token this mailbox logs in with.
 */
export function mailboxState(
  meta: MailboxMeta,
  credential: Pick<CredentialStatus, 'state' | 'failures'> | undefined,
  now: number,
): MailboxState {
  const later = (at: number | undefined) => (at !== undefined && at > now ? { nextLoginAt: at } : {});
  const current = meta.lastError !== undefined && !errorIsPast(meta);
  const streak = current && meta.failures !== undefined ? { failures: meta.failures } : {};
  const refused =
    credential?.state === 'credentials'
      ? Object.values(credential.failures).find((f) => !f.retryable)
      : undefined;
  if (refused) {
    return {
      state: 'credentials',
      code: refused.code,
      ...(refused.providerText === undefined ? {} : { text: refused.providerText }),
      ...(meta.lastError === refused.code ? streak : {}),
      ...later(Math.max(refused.until, meta.notBefore ?? 0)),
    };
  }
  if (meta.lastOutcome === undefined) return { state: 'new', ...later(meta.notBefore) };
  if (current && (meta.lastOutcome === 'error' || REFUSALS.has(meta.lastOutcome))) {
    return {
      state: meta.lastOutcome as MailboxStateName,
      code: meta.lastError!,
      ...(meta.lastErrorText === undefined ? {} : { text: meta.lastErrorText }),
      ...streak,
      ...later(meta.notBefore),
    };
  }
  const past =
    meta.lastError !== undefined && meta.lastErrorAt !== undefined && errorIsPast(meta)
      ? {
          past: {
            code: meta.lastError,
            at: meta.lastErrorAt,
            ...(meta.failures === undefined ? {} : { failures: meta.failures }),
          },
        }
      : {};
  return { state: 'ok', ...later(meta.notBefore), ...past };
}

/**
 * What to tell the operator of a mailbox whose server expires retrieved messages (RFC 2449 §6.7 EXPIRE
 * other than NEVER) while `delete: false` expects them to stay: the EXPIRE argument, or undefined when
 * nothing needs saying (delete mode, NEVER, no or an unreadable EXPIRE).
 */
export function expireNotice(expire: string | undefined, deleteMode: boolean): string | undefined {
  if (deleteMode) return undefined;
  const days = expireDays(expire);
  return days === undefined || days === 'never' ? undefined : String(days);
}

/** The notice as a sentence for `status` and the dashboard. */
export function describeExpire(days: string): string {
  return days === '0'
    ? 'the server removes retrieved messages at the end of each session (EXPIRE 0), although delete: false'
    : `the server removes retrieved messages after ${days} days (EXPIRE ${days}), although delete: false`;
}
