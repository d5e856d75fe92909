// A mailbox's start point (`startAt`), for a deployment pointed at a mailbox that already holds mail:
// `everything` delivers every listed message (no work here); `now` records the current listing as seen
// without delivering it; a date holds back messages whose Date is before it (their headers read with
// TOP n 0, RETR only for what is kept; a missing or unreadable Date keeps the message). Held-back
// messages become `skipped` ledger entries: never delivered, never sent DELE, pruned once unlisted.
//
// It runs once per start point. A marker in Redis says which start point began when, and when it was
// done; later sessions (on any process of the fleet: the mailbox lock lets one session at a time in) see
// it done and deliver new mail as usual. A session that dies midway leaves the marker begun, the skips of
// finished chunks recorded, the rest absent: the next one carries on, and for `now` it then holds back
// only mail dated before the moment onboarding began, so mail that arrived in between is delivered.
// Changing `startAt` later starts a new onboarding with the new value.
import type { StartAt } from '../config/index.ts';
import type { Ledger } from '../ledger/index.ts';
import type { Pop3Client } from '../pop3/index.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { ListedMessage } from './listing.ts';

export type StartPlan =
  | { hold: 'none' }
  | { hold: 'all'; startAt: string; startedAt: number }
  | { hold: 'before'; sinceMs: number; startAt: string; startedAt: number };

/** New messages classified (and their skips recorded) per step: one progress log line each. */
const CHUNK = 500;

/** What the start point does this session, given its marker (undefined: never begun). */
export function startPlan(
  startAt: StartAt,
  marker: { startAt: string; startedAt: number; doneAt?: number } | undefined,
  now: number,
): StartPlan {
  if (startAt.mode === 'everything') return { hold: 'none' };
  const text = startAt.mode === 'now' ? 'now' : startAt.text;
  const begun = marker?.startAt === text;
  if (begun && marker.doneAt !== undefined) return { hold: 'none' };
  const startedAt = begun ? marker.startedAt : now;
  if (startAt.mode === 'date') return { hold: 'before', sinceMs: startAt.sinceMs, startAt: text, startedAt };
  return begun
    ? { hold: 'before', sinceMs: startedAt, startAt: text, startedAt }
    : { hold: 'all', startAt: text, startedAt };
}

/**
 * Walks the new messages chunk by chunk and hands `onChunk` the ones the plan holds back, with how many
 * were looked at so far. Reads headers only for a date plan.
 */
export async function classifyNew(
  client: Pop3Client,
  fresh: readonly ListedMessage[],
  plan: Exclude<StartPlan, { hold: 'none' }>,
  onChunk: (held: ListedMessage[], done: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  for (let i = 0; i < fresh.length; i += CHUNK) {
    const chunk = fresh.slice(i, i + CHUNK);
    const held = plan.hold === 'all' ? chunk : await datedBefore(client, chunk, plan.sinceMs, signal);
    await onChunk(held, i + chunk.length);
  }
}

async function datedBefore(
  client: Pop3Client,
  chunk: readonly ListedMessage[],
  sinceMs: number,
  signal?: AbortSignal,
): Promise<ListedMessage[]> {
  const byMsg = new Map(chunk.map((m) => [m.msg, m]));
  // Loaded here, not with the module: its header decoding brings libmime and iconv-lite into the main
  // thread, and only a start point's first sessions read headers.
  const { readMessageHeaders } = await import('./message-headers.ts');
  const held: ListedMessage[] = [];
  await client.topEach(
    chunk.map((m) => m.msg),
    0,
    async (msg, body) => {
      const { dateMs } = await readMessageHeaders(body);
      if (dateMs !== undefined && dateMs < sinceMs) held.push(byMsg.get(msg)!);
    },
    { signal },
  );
  return held;
}

export interface StartPointDeps {
  ledger: Ledger;
  logger: Logger;
  now(): number;
}

/**
 * Runs the start point over this session's new messages: the held-back ones are recorded `skipped`
 * chunk by chunk, with a progress line each. Returns their UIDLs (none once onboarding is done).
 */
export async function applyStartPoint(
  deps: StartPointDeps,
  mailbox: { id: string; startAt: StartAt },
  client: Pop3Client,
  fresh: readonly ListedMessage[],
  signal?: AbortSignal,
): Promise<Set<string>> {
  const skipped = new Set<string>();
  // The default costs nothing: no marker is read or written.
  if (mailbox.startAt.mode === 'everything') return skipped;
  const plan = startPlan(mailbox.startAt, await deps.ledger.onboarding(mailbox.id), deps.now());
  if (plan.hold === 'none') return skipped;
  const { startAt, startedAt } = plan;
  await deps.ledger.setOnboarding(mailbox.id, { startAt, startedAt });
  await classifyNew(
    client,
    fresh,
    plan,
    async (held, done) => {
      await deps.ledger.markSkipped(
        mailbox.id,
        held.map((m) => m.uidl),
      );
      for (const m of held) skipped.add(m.uidl);
      deps.logger.info(
        { startAt, looked: done, of: fresh.length, skipped: skipped.size, kept: done - skipped.size },
        'onboarding: new messages looked at',
      );
    },
    signal,
  );
  const kept = fresh.length - skipped.size;
  await deps.ledger.setOnboarding(mailbox.id, {
    startAt,
    startedAt,
    doneAt: deps.now(),
    skipped: skipped.size,
    kept,
  });
  deps.logger.info(
    { startAt, skipped: skipped.size, kept },
    'onboarding done: new mail is delivered from here on',
  );
  return skipped;
}
