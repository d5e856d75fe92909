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

/** The follow-up poll's delay after a session, or undefined when it left nothing for later. */
export function followUpDelayMs(remaining: number, notBefore: number | undefined, now: number) {
  if (remaining <= 0) return undefined;
  return Math.max(FOLLOW_UP_DELAY_MS, (notBefore ?? 0) - now);
}
