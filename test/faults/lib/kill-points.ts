// Where the kill scenario strikes. Each poll-worker point is a line of the POP3 conversation seen by the
// proxy: the line is held back (never reaches its peer) and the poll worker gets SIGKILL at that instant,
// so the kill lands exactly there, not "around" there. The deliver-worker points are in the receiver:
// the POST has arrived and its answer is held back (or has just been sent) when the worker dies.
import type { Reply, ReplySpec } from '../../helpers/receiver.ts';
import type { Pop3Event } from './pop3-tap.ts';

export type KillPoint =
  | 'mid-RETR'
  | 'after-enqueue-before-QUIT'
  | 'after-DELE-before-QUIT'
  | 'after-QUIT-committed'
  | 'mid-POST'
  | 'after-2xx-sent';

export const KILL_POINTS: readonly KillPoint[] = [
  'mid-RETR',
  'after-enqueue-before-QUIT',
  'after-DELE-before-QUIT',
  'after-QUIT-committed',
  'mid-POST',
  'after-2xx-sent',
];

export const isDeliverPoint = (point: KillPoint): boolean =>
  point === 'mid-POST' || point === 'after-2xx-sent';

/** Per connection: how many RETRs and DELEs the session sent, to place the QUIT points. */
export class SessionCounts {
  readonly #counts = new Map<number, { retr: number; dele: number }>();

  see(event: Pop3Event): { retr: number; dele: number } {
    const counts = this.#counts.get(event.conn) ?? { retr: 0, dele: 0 };
    this.#counts.set(event.conn, counts);
    if (event.kind === 'command' && event.verb === 'RETR') counts.retr += 1;
    if (event.kind === 'reply' && event.verb === 'DELE' && event.ok) counts.dele += 1;
    return counts;
  }
}

/** Whether this POP3 line is where a poll-worker point strikes (`random` spreads it over the session). */
export function pop3PointHit(
  point: KillPoint,
  event: Pop3Event,
  counts: { retr: number; dele: number },
  random: () => number,
): boolean {
  switch (point) {
    case 'mid-RETR':
      // The +OK of a RETR is through, its body is not: pophook is inside the retrieval.
      return event.kind === 'reply' && event.verb === 'RETR' && event.ok === true && random() < 0.35;
    case 'after-enqueue-before-QUIT':
      // Every RETR'd message is stored and enqueued (QUIT is only sent after that); QUIT never arrives.
      return event.kind === 'command' && event.verb === 'QUIT' && counts.retr > 0;
    case 'after-DELE-before-QUIT':
      // The server has marked the message deleted; pophook dies before it can QUIT.
      return event.kind === 'reply' && event.verb === 'DELE' && event.ok === true && random() < 0.5;
    case 'after-QUIT-committed':
      // The server committed the deletions; pophook dies before it reads +OK (ledger still 'delivered').
      return event.kind === 'reply' && event.verb === 'QUIT' && event.ok === true && counts.dele > 0;
    default:
      return false;
  }
}

/** The receiver's answer when a deliver-worker point strikes, and when to kill relative to it. */
export function deliverPointReply(point: KillPoint): { reply: ReplySpec; killAfterMs: number } {
  // mid-POST: the answer would come after 3 s; the worker dies at 150 ms with the request in flight.
  if (point === 'mid-POST')
    return { reply: { status: 200, delayMs: 3_000 } satisfies Reply, killAfterMs: 150 };
  // after-2xx-sent: the 2xx is on the wire; the worker dies before (or while) it records 'delivered'.
  return { reply: 200, killAfterMs: 5 };
}
