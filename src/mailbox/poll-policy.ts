// When a mailbox is polled again, as pure functions of epoch-ms times: the server's LOGIN-DELAY (RFC 2449
// §6.8 capability: the least time between logins; RFC 3206 response code: "not now") and the follow-up
// poll after a session that left messages for later (its batch budget ran out).
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

/** The server refused the login with [LOGIN-DELAY] without saying how long: wait one poll interval. */
export function notBeforeAfterRefusal(now: number, pollIntervalMs: number): number {
  return now + pollIntervalMs;
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
 * Login failures that more tries will not mend: the server or the token endpoint refused the credentials.
 * Retrying them every poll interval is how a provider's lockout policy gets tripped, so they back off.
 */
// A refused OAuth grant is held back by the token cache itself (src/oauth), which also sees it recover.
const CREDENTIAL_FAILURES = new Set(['POP3_AUTH_FAILED']);
/** The longest wait between two logins with refused credentials. */
export const MAX_CREDENTIAL_BACKOFF_MS = 60 * 60_000;

export function isCredentialFailure(code: string | undefined): boolean {
  return code !== undefined && CREDENTIAL_FAILURES.has(code);
}

/**
 * After `failures` polls in a row ended with refused credentials: no login before this. One poll interval
 * after the first refusal, doubling with each further one, at most an hour; other failures: no wait.
 */
export function notBeforeAfterFailure(
  code: string,
  failures: number,
  pollIntervalMs: number,
  now: number,
): number | undefined {
  if (!isCredentialFailure(code)) return undefined;
  const exponent = Math.min(Math.max(0, failures - 1), 30);
  return now + Math.min(MAX_CREDENTIAL_BACKOFF_MS, Math.max(pollIntervalMs, pollIntervalMs * 2 ** exponent));
}
