// The fake POP3 server with a clock on every authenticated session: from the moment it answers a login
// with +OK (USER/PASS, APOP or AUTH) to QUIT or the connection closing, whichever comes first. Fleet tests
// use it to prove that at most one session per mailbox is logged in at any time (DESIGN.md "One session per
// mailbox at a time across the fleet"). Wraps test/helpers/fake-pop3-server.ts; the caller's overrides
// still apply.
import {
  type FakeHandler,
  type FakePop3Server,
  type FakeServerOptions,
  type FakeSession,
  startFakePop3Server,
} from './fake-pop3-server.ts';

export interface SessionSpan {
  session: number;
  loginAt: number;
  /** QUIT received or connection closed; undefined while the session is still open. */
  endAt?: number;
  /** Whether it ended with QUIT (the server committed its DELEs) rather than a dropped connection. */
  quit: boolean;
}

export interface TimedFakePop3Server {
  readonly server: FakePop3Server;
  readonly spans: readonly SessionSpan[];
  /** Pairs of authenticated sessions that were logged in at the same time (open sessions count as "now"). */
  overlaps(): Array<[SessionSpan, SessionSpan]>;
  stop(): Promise<void>;
}

/** Commands that may end in a login; the first +OK written in the transaction state marks it. */
const LOGIN_VERBS = ['PASS', 'APOP', 'AUTH'];

export async function startTimedFakePop3Server(
  options: FakeServerOptions = {},
): Promise<TimedFakePop3Server> {
  const spans: SessionSpan[] = [];
  const watched = new WeakSet<FakeSession>();
  const open = new Map<number, SessionSpan>();

  const watch = (session: FakeSession) => {
    if (watched.has(session)) return;
    watched.add(session);
    const write = session.write.bind(session);
    session.write = (data) => {
      if (
        session.state === 'transaction' &&
        !open.has(session.id) &&
        !spans.some((s) => s.session === session.id)
      ) {
        const span: SessionSpan = { session: session.id, loginAt: performance.now(), quit: false };
        spans.push(span);
        open.set(session.id, span);
        session.socket.once('close', () => end(session.id, false));
      }
      write(data);
    };
  };
  const end = (id: number, quit: boolean) => {
    const span = open.get(id);
    if (!span) return;
    open.delete(id);
    span.endAt = performance.now();
    span.quit = quit;
  };

  const overrides: Record<string, FakeHandler> = { ...options.overrides };
  for (const verb of LOGIN_VERBS) {
    const inner = options.overrides?.[verb];
    overrides[verb] = (command, session) => {
      watch(session);
      return inner ? inner(command, session) : undefined;
    };
  }
  const innerQuit = options.overrides?.QUIT;
  overrides.QUIT = (command, session) => {
    end(session.id, session.state === 'transaction');
    return innerQuit ? innerQuit(command, session) : undefined;
  };

  const server = await startFakePop3Server({ ...options, overrides });
  return {
    server,
    spans,
    overlaps: () => findOverlaps(spans, performance.now()),
    stop: () => server.stop(),
  };
}

/** Sorted by login time, a session overlaps every earlier one that had not ended when it logged in. */
export function findOverlaps(spans: readonly SessionSpan[], now: number): Array<[SessionSpan, SessionSpan]> {
  const sorted = [...spans].sort((a, b) => a.loginAt - b.loginAt);
  const found: Array<[SessionSpan, SessionSpan]> = [];
  sorted.forEach((span, i) => {
    for (const earlier of sorted.slice(0, i)) {
      if ((earlier.endAt ?? now) > span.loginAt) found.push([earlier, span]);
    }
  });
  return found;
}
