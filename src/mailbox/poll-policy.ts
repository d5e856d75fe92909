// When a mailbox is polled again, as pure functions of epoch-ms times: the server's LOGIN-DELAY (RFC 2449
// §6.8 capability: the least time between logins), the follow-up poll after a session that left messages
// for later (its batch budget ran out), and what each refusal of a login means and how long it waits.
import type { PollJobData } from '../queue/jobs.ts';

/** After a session left messages for later, the next one comes this soon (unless LOGIN-DELAY says more). */
export const FOLLOW_UP_DELAY_MS = 1_000;
/** A LOGIN-DELAY is honoured up to a day, so a hostile or broken value can't stop a mailbox for good. */
export const MAX_LOGIN_DELAY_MS = 86_400_000;

/** The wait a LOGIN-DELAY capability announces, capped; undefined when the server announced none. */
export function loginDelayMs(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : Math.min(seconds * 1000, MAX_LOGIN_DELAY_MS);
}

/** A session's login started at `startedAt`: the next login may come no earlier than this. */
export function notBeforeAfterSession(startedAt: number, announcedDelayMs: number | undefined) {
  return announcedDelayMs === undefined ? undefined : startedAt + announcedDelayMs;
}

export type PollGate = { run: true } | { run: false; requeueInMs?: number };

/**
 * Whether a poll job may log in now. Before `notBefore`, a scheduled poll is skipped (the schedule brings
 * the next one) and any other poll (early, manual) is moved to when the server allows it.
 */
export function pollGate(
  notBefore: number | undefined,
  reason: PollJobData['reason'],
  now: number,
): PollGate {
  if (notBefore === undefined || notBefore <= now) return { run: true };
  return reason === 'schedule' ? { run: false } : { run: false, requeueInMs: notBefore - now };
}

/**
 * The LOGIN-DELAY that spaces the next login: the announced one, or none when the mailbox says
 * `loginDelay: ignore` (a server that enforces it still answers [LOGIN-DELAY], and that is always obeyed).
 */
export function honouredLoginDelayMs(announcedMs: number | undefined, mode: 'honour' | 'ignore') {
  return mode === 'ignore' ? undefined : announcedMs;
}

/**
 * New messages a session left for later: what its batch budgets left, plus one when the provider caps a
 * listing (Gmail: about 250 of the oldest unpopped) and this one came back full with something new in it,
 * since more wait behind it. A full listing with nothing new (Gmail's `recent:` mode lists 30 days of mail
 * again) is no sign of more, so follow-ups stop there.
 */
export function leftForLater(
  result: { remaining: number; listed: number; fetched: number },
  listingCap: number | undefined,
): number {
  const capped = listingCap !== undefined && result.listed >= listingCap && result.fetched > 0;
  return result.remaining + (capped ? 1 : 0);
}

/** The follow-up poll's delay after a session, or undefined when it left nothing for later. */
export function followUpDelayMs(remaining: number, notBefore: number | undefined, now: number) {
  if (remaining <= 0) return undefined;
  return Math.max(FOLLOW_UP_DELAY_MS, (notBefore ?? 0) - now);
}

/**
 * The server's answer to a login, and what it means for the mailbox (RFC 2449 §8.1 AUTH-RESP-CODE and
 * IN-USE/LOGIN-DELAY, RFC 3206 SYS/TEMP, SYS/PERM, AUTH):
 * - credentials: [AUTH], or a plain -ERR to PASS/APOP/AUTH: the password or token is wrong. Retrying every
 *   poll interval is how a provider's lockout policy gets tripped, so logins back off up to an hour.
 * - temporary ([SYS/TEMP]) and in-use ([IN-USE], another client holds the mailbox): later, backing off up to
 *   a few poll intervals, so a busy server is asked less and a recovered one is back in use soon.
 * - login-delay ([LOGIN-DELAY]): too soon after the last login: the same, but never sooner than the
 *   LOGIN-DELAY the server last announced.
 * - blocked ([SYS/PERM]): the server says it won't work without someone acting (account disabled, web login
 *   required): one login an hour, the server's text in `status`.
 */
export type LoginRefusal = 'credentials' | 'temporary' | 'in-use' | 'login-delay' | 'blocked';

export const LOGIN_REFUSALS: readonly LoginRefusal[] = [
  'credentials',
  'temporary',
  'in-use',
  'login-delay',
  'blocked',
];

/** By the POP3 client's code (src/pop3/status.ts maps the response codes, and a plain -ERR to PASS/AUTH). */
const REFUSAL_OF_CODE: Readonly<Record<string, LoginRefusal>> = {
  POP3_AUTH_FAILED: 'credentials',
  POP3_SYS_TEMP: 'temporary',
  POP3_IN_USE: 'in-use',
  POP3_LOGIN_DELAY: 'login-delay',
  POP3_SYS_PERM: 'blocked',
};

/** The commands of a login (RFC 1939 §7, RFC 5034): a [SYS/TEMP] to RETR is a failed session, not a refusal. */
const LOGIN_COMMANDS = new Set(['USER', 'PASS', 'APOP', 'AUTH']);

/** Refusals that only mean "not now": the poll ends with that outcome, not as a failed job. */
const NOT_NOW: ReadonlySet<LoginRefusal> = new Set<LoginRefusal>(['in-use', 'login-delay']);

/** The longest wait between two logins with refused credentials. */
export const MAX_CREDENTIAL_BACKOFF_MS = 60 * 60_000;
/** A temporary refusal ([SYS/TEMP], [IN-USE], [LOGIN-DELAY]) waits at most this many poll intervals. */
export const MAX_TEMPORARY_BACKOFF_INTERVALS = 4;
/** A mailbox the server blocked ([SYS/PERM]) is tried again this often (or every poll interval if longer). */
export const BLOCKED_RETRY_MS = 60 * 60_000;

/**
 * What a failed login means, from the error's code and the command it answered; undefined for anything
 * else (a cut connection, a timeout, an OAuth token endpoint's refusal: the token cache holds that back).
 */
export function loginRefusal(failure: { code?: unknown; command?: unknown }): LoginRefusal | undefined {
  const refusal = typeof failure.code === 'string' ? REFUSAL_OF_CODE[failure.code] : undefined;
  if (refusal === undefined) return undefined;
  const verb = typeof failure.command === 'string' ? failure.command.split(' ', 1)[0]!.toUpperCase() : '';
  return LOGIN_COMMANDS.has(verb) ? refusal : undefined;
}

export function isNotNow(refusal: LoginRefusal | undefined): refusal is 'in-use' | 'login-delay' {
  return refusal !== undefined && NOT_NOW.has(refusal);
}

/**
 * After `failures` polls in a row ended with this refusal: no login before this. Credentials: one poll
 * interval after the first refusal, doubling with each further one, at most an hour. Temporary, in-use and
 * login-delay: the same doubling, at most four poll intervals; login-delay never sooner than the server's
 * last announced LOGIN-DELAY. Blocked: an hour (or the poll interval, if longer).
 */
export function notBeforeAfterRefusal(
  refusal: LoginRefusal,
  failures: number,
  options: { pollIntervalMs: number; now: number; announcedDelayMs?: number | undefined },
): number {
  const { pollIntervalMs, now } = options;
  const doubled = pollIntervalMs * 2 ** Math.min(Math.max(0, failures - 1), 30);
  switch (refusal) {
    case 'credentials':
      return now + Math.min(MAX_CREDENTIAL_BACKOFF_MS, doubled);
    case 'temporary':
    case 'in-use':
      return now + Math.min(MAX_TEMPORARY_BACKOFF_INTERVALS * pollIntervalMs, doubled);
    case 'login-delay':
      return (
        now +
        Math.max(
          Math.min(MAX_TEMPORARY_BACKOFF_INTERVALS * pollIntervalMs, doubled),
          Math.min(options.announcedDelayMs ?? 0, MAX_LOGIN_DELAY_MS),
        )
      );
    case 'blocked':
      return now + Math.max(pollIntervalMs, BLOCKED_RETRY_MS);
  }
}
