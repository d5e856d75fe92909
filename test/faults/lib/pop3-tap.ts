// Reads the POP3 conversation passing through the proxy (tls: none, USER/PASS, so every client line is a
// command) and keeps a journal with timestamps: which UIDL each message number has in each session (from
// the UIDL listing), every DELE sent and answered, every QUIT answered +OK (the server committed, RFC 1939
// §6). It also lets a scenario stop a conversation at an exact point: hold a command back, hold a reply
// back, or cut the connection before or after a line.
//
// The journal is how the suite proves "no message deleted before its 2xx": pophook reaches Dovecot only
// through this proxy, Dovecot deletes only messages DELE'd in a session that then got QUIT, so a message
// can only disappear after a DELE for it passed here. Each DELE is checked against the receiver's first
// answered 2xx for that UIDL, which is recorded before the answer leaves the receiver.
import type { ConnectionTap, TapVerdict } from './tcp-proxy.ts';

/**
 * hold: this line and everything after it in this direction stay back; cut-*: reset both sockets;
 * replace: send this line instead (a server reply rewritten, e.g. +OK to PASS into -ERR [IN-USE]).
 */
export type LineVerdict = 'pass' | 'hold' | 'cut-before' | 'cut-after' | { replace: string };

export interface Pop3Event {
  conn: number;
  /** 'command': a client line; 'reply': a server status line answering `verb`. */
  kind: 'command' | 'reply';
  verb: string;
  arg: string;
  ok?: boolean;
  /** UIDL of the message the command names, when the session's UIDL listing was seen. */
  uidl?: string;
  /** For a RETR reply: index of this RETR among the session's RETRs (0-based). */
  index: number;
}

export interface DeleRecord {
  at: number;
  conn: number;
  /** The USER of the session, i.e. which mailbox. */
  user: string;
  msg: number;
  uidl: string | undefined;
}

export interface Pop3Journal {
  deles: DeleRecord[];
  /** QUIT answered +OK: UIDLs DELE'd (+OK) in that session, i.e. committed deletions. */
  commits: Array<{ at: number; conn: number; user: string; uidls: string[] }>;
  sessions: number;
}

const MULTILINE_ALWAYS = new Set(['CAPA', 'RETR', 'TOP']);
const MULTILINE_WITHOUT_ARG = new Set(['LIST', 'UIDL']);

export function createPop3Tap(
  journal: Pop3Journal,
  decide: (event: Pop3Event) => LineVerdict = () => 'pass',
): (conn: number) => ConnectionTap {
  return (conn) => {
    journal.sessions += 1;
    const uidls = new Map<number, string>();
    const pending: Array<{ verb: string; arg: string; index: number }> = [];
    const deleted: string[] = [];
    let retrs = 0;
    let user = '';
    let body: { verb: string } | undefined;

    const onCommand = (line: string): LineVerdict => {
      const [verb = '', arg = ''] = line.split(' ');
      const upper = verb.toUpperCase();
      const index = upper === 'RETR' ? retrs++ : 0;
      if (upper === 'USER') user = arg;
      pending.push({ verb: upper, arg, index });
      const uidl = upper === 'DELE' || upper === 'RETR' ? uidls.get(Number(arg)) : undefined;
      if (upper === 'DELE') journal.deles.push({ at: Date.now(), conn, user, msg: Number(arg), uidl });
      return decide({ conn, kind: 'command', verb: upper, arg, index, ...(uidl ? { uidl } : {}) });
    };

    const onServerLine = (line: string): LineVerdict => {
      if (body) {
        if (line === '.') body = undefined;
        else if (body.verb === 'UIDL') {
          const [n, uid] = line.split(' ');
          if (n && uid) uidls.set(Number(n), uid);
        }
        return 'pass';
      }
      const command = pending.shift();
      if (!command) return 'pass'; // the greeting
      const ok = line.startsWith('+OK');
      const multi =
        MULTILINE_ALWAYS.has(command.verb) || (MULTILINE_WITHOUT_ARG.has(command.verb) && !command.arg);
      if (ok && multi) body = { verb: command.verb };
      const uidl = uidls.get(Number(command.arg));
      if (ok && command.verb === 'DELE' && uidl) deleted.push(uidl);
      if (ok && command.verb === 'QUIT')
        journal.commits.push({ at: Date.now(), conn, user, uidls: [...deleted] });
      return decide({
        conn,
        kind: 'reply',
        verb: command.verb,
        arg: command.arg,
        ok,
        index: command.index,
        ...(uidl && command.verb !== 'UIDL' ? { uidl } : {}),
      });
    };

    return {
      fromClient: lineSplitter(onCommand, () => true),
      // Body bytes flow as they come; a status line is only passed on once whole, so a hold is exact.
      fromServer: lineSplitter(onServerLine, () => body === undefined),
    };
  };
}

/** Splits a byte stream into lines and turns the per-line verdicts into a verdict for the chunk. */
function lineSplitter(onLine: (line: string) => LineVerdict, wholeLinesOnly: () => boolean) {
  // `carry` is the unfinished last line; its first `sent` bytes were already forwarded (body bytes).
  let carry = Buffer.alloc(0);
  let sent = 0;
  return (chunk: Buffer): TapVerdict => {
    const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    const pieces: Buffer[] = [];
    let from = sent; // first byte of `data` not yet forwarded
    const upTo = (end: number) => {
      if (end > from) pieces.push(data.subarray(from, end));
      from = Math.max(from, end);
      return Buffer.concat(pieces);
    };
    let start = 0;
    for (let lf = data.indexOf(0x0a); lf !== -1; lf = data.indexOf(0x0a, start)) {
      const end = lf > start && data[lf - 1] === 0x0d ? lf - 1 : lf;
      const verdict = onLine(data.toString('latin1', start, end));
      if (verdict === 'hold') return { forward: upTo(start), next: 'hold' };
      if (verdict === 'cut-before') return { forward: upTo(start), next: 'cut' };
      if (verdict === 'cut-after') return { forward: upTo(lf + 1), next: 'cut' };
      if (typeof verdict === 'object') {
        upTo(start);
        pieces.push(Buffer.from(`${verdict.replace}\r\n`, 'latin1'));
        from = lf + 1;
      }
      start = lf + 1;
    }
    const forward = upTo(wholeLinesOnly() ? start : data.length);
    carry = Buffer.from(data.subarray(start));
    sent = from - start;
    return { forward, next: 'continue' };
  };
}
