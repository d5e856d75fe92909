// The fake POP3 server scripted as the big providers behave (facts in README "Gmail" and "Microsoft 365"):
// Gmail lists about 250 of the oldest unpopped messages, marks what a session retrieved as popped when it
// ends with QUIT (DELE or not), announces LOGIN-DELAY 300, and in `recent:` mode lists every message
// again; Exchange Online's LIST sizes run a few percent under the bytes RETR sends.
import type { FakeCommand, FakeHandler, FakeServerOptions, FakeSession } from './fake-pop3-server.ts';
import { multiline } from './fake-pop3-server.ts';

export const GMAIL_LISTING_CAP = 250;

export interface GmailFake {
  options: Pick<FakeServerOptions, 'extraCapabilities' | 'overrides'>;
  /** UIDs popped so far (hidden from normal-mode listings). */
  popped: Set<string>;
}

export function gmailLike(): GmailFake {
  const popped = new Set<string>();
  const retrieved = new WeakMap<FakeSession, Set<string>>();
  const shaped = new WeakSet<FakeSession>();
  // The session's view, fixed at its first listing command: message numbers stay stable within it.
  const shape: FakeHandler = (_command, session) => {
    if (shaped.has(session)) return undefined;
    shaped.add(session);
    const recent = session.user?.startsWith('recent:') === true;
    const view = recent
      ? [...session.messages]
      : session.messages.filter((m) => !popped.has(m.uid)).slice(0, GMAIL_LISTING_CAP);
    session.messages.splice(0, session.messages.length, ...view);
    return undefined;
  };
  const retr: FakeHandler = (command: FakeCommand, session) => {
    shape(command, session);
    const message = session.messages[Number(command.args[0]) - 1];
    if (message && !session.deleted.has(Number(command.args[0]))) {
      const set = retrieved.get(session) ?? new Set<string>();
      set.add(message.uid);
      retrieved.set(session, set);
    }
    return undefined;
  };
  const quit: FakeHandler = (_command, session) => {
    if (session.state === 'transaction') for (const uid of retrieved.get(session) ?? []) popped.add(uid);
    return undefined;
  };
  return {
    popped,
    options: {
      extraCapabilities: ['LOGIN-DELAY 300'],
      overrides: { STAT: shape, LIST: shape, UIDL: shape, TOP: shape, RETR: retr, QUIT: quit },
    },
  };
}

/** Exchange Online's LIST: each size `percent` under the message's bytes (what RETR sends). */
export function listUnderReporting(percent: number): FakeHandler {
  return (command, session) => {
    const live = session.messages.map((m, i) => [i + 1, m] as const).filter(([n]) => !session.deleted.has(n));
    const size = (bytes: number) => Math.floor(bytes * (1 - percent / 100));
    if (command.args[0] !== undefined) {
      const n = Number(command.args[0]);
      const message = session.messages[n - 1];
      return message ? `+OK ${n} ${size(message.body.length)}\r\n` : '-ERR no such message\r\n';
    }
    return multiline('+OK', live.map(([n, m]) => `${n} ${size(m.body.length)}\r\n`).join(''));
  };
}
