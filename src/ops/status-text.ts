// The snapshot as one screen for a person (`pophook status`): mailboxes, webhooks, queues, Redis memory.
// Pure: every time is shown relative to the snapshot's own `at`, so the text is testable to the character.
import { describeExpire, type MailboxState } from '../mailbox/state.ts';
import { QUEUE_STATES, type Snapshot } from './snapshot.ts';

/** `12 s`, `5 min`, `3 h`, `2 d` (rounded; an age, no sign). */
export function duration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7_200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3_600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

/** `3 s ago` for a past time, `in 4 s` for a future one, `—` when unknown. */
export function relative(at: number | undefined, now: number): string {
  if (at === undefined) return '—';
  return at <= now ? `${duration(now - at)} ago` : `in ${duration(at - now)}`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Left-aligned columns, two spaces apart; numbers right-aligned. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${cells.map(line).join('\n')}\n`;
}

export function formatStatus(s: Snapshot): string {
  const now = s.at;
  const mailboxes = table(
    ['MAILBOX', 'LAST POLL', 'STATE', 'LISTED', 'BACKLOG', 'OLDEST', 'DEAD', 'DROPPED', 'LOCK', 'NEXT POLL'],
    s.mailboxes.map((m) => [
      m.id,
      relative(m.lastPollAt, now),
      describeState(m.state, now),
      m.listed ?? '—',
      m.ledger.queued,
      m.oldestQueuedAt === undefined ? '—' : duration(now - m.oldestQueuedAt),
      m.ledger.dead,
      m.dropped ?? 0,
      m.lock ? m.lock.owner : '—',
      relative(m.nextPollAt, now),
    ]),
  );
  const webhooks = table(
    ['WEBHOOK', 'SUCCESS (1 h)', 'LAST OK', 'LAST ERROR'],
    s.webhooks.map((w) => [
      w.id,
      w.window.rate === null ? 'no attempts' : `${Math.round(w.window.rate * 100)}% of ${w.window.attempts}`,
      relative(w.lastOkAt, now),
      w.lastError
        ? `${w.lastError.past ? 'past: ' : ''}${w.lastError.code}${w.lastError.status ? ` ${w.lastError.status}` : ''}, ${relative(w.lastError.at, now)}`
        : '—',
    ]),
  );
  const queues = table(
    ['QUEUE', ...QUEUE_STATES.map((q) => q.toUpperCase())],
    Object.entries(s.queues).map(([name, c]) => [name, ...QUEUE_STATES.map((state) => c[state])]),
  );
  return [
    `pophook status at ${new Date(now).toISOString()}  ${redisLine(s.redis)}`,
    mailboxes + mailboxNotes(s.mailboxes),
    webhooks,
    queues,
  ].join('\n');
}

/**
 * A mailbox's state in one cell: `credentials POP3_AUTH_FAILED ×3, next login in 4 min` while logins are
 * refused (any refusal: temporary, in-use, login-delay, blocked), `error CODE ×3` while polls fail; once a
 * poll went well, the failure fades to history with its time: `ok (past: CODE ×3, 2 h ago)`, so nobody
 * chases a problem that is gone.
 */
export function describeState(state: MailboxState, now: number): string {
  const streak = (failures: number | undefined) => (failures && failures > 1 ? ` ×${failures}` : '');
  const next = state.nextLoginAt === undefined ? '' : `, next login ${relative(state.nextLoginAt, now)}`;
  if (state.state === 'new') return `—${next}`;
  if (state.state !== 'ok') return `${state.state} ${state.code}${streak(state.failures)}${next}`;
  const past = state.past
    ? ` (past: ${state.past.code}${streak(state.past.failures)}, ${relative(state.past.at, now)})`
    : '';
  return `ok${next}${past}`;
}

/**
 * Under the table, what does not fit a cell: the server's or provider's own words, EXPIRE warnings, and
 * copies recorded as duplicates (dedupe), which a mailbox has only when deduplication is on.
 */
function mailboxNotes(mailboxes: Snapshot['mailboxes']): string {
  const notes = mailboxes.flatMap((m) => [
    ...(m.state.text === undefined ? [] : [`${m.id}: ${m.state.code}: ${m.state.text}`]),
    ...(m.expire === undefined ? [] : [`${m.id}: ${describeExpire(m.expire)}`]),
    ...(m.duplicates
      ? [`${m.id}: ${m.duplicates} duplicate(s) of emails accepted through another copy`]
      : []),
  ]);
  return notes.map((note) => `  ${note}\n`).join('');
}

function redisLine(r: Snapshot['redis']): string {
  if (r.usedBytes === undefined) return 'redis memory: unknown';
  if (!r.maxBytes) return `redis memory: ${bytes(r.usedBytes)} used (no maxmemory)`;
  const pct = Math.round((r.usedBytes / r.maxBytes) * 100);
  return `redis memory: ${bytes(r.usedBytes)} of ${bytes(r.maxBytes)} (${pct}%)`;
}
