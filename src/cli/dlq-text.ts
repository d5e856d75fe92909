// Dead letters and deliveries waiting on backoff as text for a person (`pophook dlq`, `pophook retry`).
// Pure. Everything that came from mail or from a receiver passes through `clean`, so a hostile subject or
// answer cannot move the terminal's cursor or forge lines.
import type { DeadLetterDetails, ReplayResult } from '../delivery/dead-letters.ts';
import type { ReplayOutcome } from '../delivery/replay-wait.ts';
import { bytes, relative, table } from '../ops/status-text.ts';
import type { DelayedDelivery } from '../queue/delayed-deliveries.ts';

const REPLAY_TEXT: Record<ReplayResult, string> = {
  queued: 'queued for delivery',
  forgotten: 'forgotten: the next poll retrieves it again',
};

const clean = (text: string): string => text.replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ');

/** One block per dead letter: its line, then the message and the receiver's answer, indented. */
export function formatDeadLetter(d: DeadLetterDetails, now: number): string {
  const { entry } = d;
  const error = entry.lastError;
  const attempts = entry.attempts === undefined ? '' : ` after ${plural(entry.attempts, 'attempt')}`;
  const fields: Array<[string, string | undefined]> = [
    ['subject', d.subject ?? undefined],
    ['from', d.from ?? undefined],
    ['date', d.date ?? undefined],
    ['size', d.size === null ? undefined : `${bytes(d.size)} (${d.size} bytes)`],
    ['reason', error ? `${error.code}${error.reason ? `: ${error.reason}` : ''}` : undefined],
    ['answer', error?.status === undefined ? undefined : `${error.status} ${error.statusText ?? ''}`.trim()],
    ['body', error?.body],
  ];
  // A fan-out message: which targets answered 2xx and which are the dead letters a replay sends again.
  if (entry.targets) {
    const targets = Object.entries(entry.targets).map(([w, t]) => `${w} ${t.state} (${t.id})`);
    fields.push(['targets', targets.join(', ')]);
  }
  const lines = [
    `${d.webhookId}  ${d.mailbox}/${clean(d.uidl)}  dead since ${new Date(entry.since).toISOString()} (${relative(entry.since, now)})${attempts}`,
    ...fields.map(([name, value]) => `  ${name.padEnd(8)}${value === undefined ? '—' : clean(value)}`),
  ];
  if (d.headers) {
    lines.push(
      `  raw     ${d.rawInRedis ? 'in Redis' : 'not in Redis: the message is still on the POP3 server'}`,
      '  headers',
      ...d.headers.map((h) => `    ${clean(h.name)}: ${clean(h.value)}`),
    );
  }
  return `${lines.join('\n')}\n`;
}

export function formatDeadLetters(dead: readonly DeadLetterDetails[], now: number): string {
  return `${dead.map((d) => `${formatDeadLetter(d, now)}\n`).join('')}${plural(dead.length, 'dead letter')}\n`;
}

export function formatReplayed(
  d: { webhookId: string; mailbox: string; uidl: string },
  how: ReplayResult,
): string {
  return `${d.webhookId} ${d.mailbox}/${clean(d.uidl)}: ${REPLAY_TEXT[how]}\n`;
}

export function formatOutcome(
  d: { webhookId: string; mailbox: string; uidl: string },
  o: ReplayOutcome,
): string {
  const head = `${d.webhookId} ${d.mailbox}/${clean(d.uidl)}: `;
  if (o.outcome === 'delivered') return `${head}delivered${o.status === undefined ? '' : ` (${o.status})`}\n`;
  if (o.outcome === 'dead') {
    const e = o.entry.lastError;
    const why = e ? ` ${e.code}${e.status === undefined ? '' : ` ${e.status} ${e.statusText ?? ''}`}` : '';
    return `${head}dead again:${clean(why).trimEnd()}\n`;
  }
  return `${head}timeout: ${o.state === 'queued' ? 'still being retried' : 'not retrieved again yet'}\n`;
}

export function formatDelayed(list: readonly DelayedDelivery[], total: number, now: number): string {
  const rows = list.map((d) => [
    d.webhookId,
    `${d.mailbox}/${clean(d.uidl)}`,
    d.webhook,
    d.attempts,
    relative(d.nextAttemptAt, now),
    clean(d.lastError ?? '—'),
  ]);
  const shown = total > list.length ? `, ${list.length} shown` : '';
  const header = ['ID', 'MAILBOX/UIDL', 'WEBHOOK', 'ATTEMPTS', 'NEXT ATTEMPT', 'LAST ERROR'];
  return `${rows.length > 0 ? table(header, rows) : ''}${plural(total, 'delivery')} waiting on backoff${shown}\n`;
}

function plural(n: number, noun: string): string {
  if (n === 1) return `1 ${noun}`;
  return `${n} ${noun.endsWith('y') ? `${noun.slice(0, -1)}ies` : `${noun}s`}`;
}
