// A scriptable POP3 server on 127.0.0.1:0 for integration tests: a mailbox of given messages, USER/PASS,
// APOP and the SASL mechanisms the client speaks, CAPA with or without PIPELINING, STLS and implicit TLS
// with a test certificate, per-command overrides, a transcript, and fault modes (see `faults`).
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, type SecureContext, TLSSocket } from 'node:tls';
import { encodeDotStuffed } from '../../src/pop3/index.ts';
import { SASL_MECHANISMS } from '../../src/pop3/sasl/index.ts';

export interface FakeMessage {
  uid: string;
  body: Buffer;
}

export interface FakeCommand {
  verb: string;
  args: string[];
  line: string;
}

/** string/Buffer: written verbatim (include the CRLF); null: say nothing; undefined: default behaviour. */
export type FakeReply = string | Buffer | null | undefined;
export type FakeHandler = (command: FakeCommand, session: FakeSession) => FakeReply | Promise<FakeReply>;

export interface FakeServerOptions {
  messages?: Array<string | Buffer | { uid?: string; body: string | Buffer }>;
  /** username → password. Default { alice: 'secret' }. */
  users?: Record<string, string>;
  /** username → OAuth access token, or a judge of (username, token), e.g. a fake token endpoint's. */
  tokens?: Record<string, string> | ((user: string, token: string) => boolean);
  greeting?: string;
  pipelining?: boolean;
  uidl?: boolean;
  top?: boolean;
  utf8?: boolean;
  /** SASL mechanisms listed in CAPA. Default all the client knows. */
  sasl?: string[];
  /** Replaces the whole CAPA list. */
  capabilities?: string[];
  /** Added to the default CAPA list, e.g. `LOGIN-DELAY 300`. */
  extraCapabilities?: string[];
  /** Certificate for STLS (offered when given) and implicit TLS. */
  tls?: { certPem: string; keyPem: string };
  implicitTls?: boolean;
  /** Don't list STLS in CAPA even though it would work (a stripping attacker). */
  hideStls?: boolean;
  /** Write this plaintext right behind +OK to STLS, in the same packet (an injection attacker). */
  stlsInjection?: string;
  /** Send no greeting at all. */
  silent?: boolean;
  /** Delay before every reply. */
  delayMs?: number;
  overrides?: Record<string, FakeHandler>;
}

export interface FakeSession {
  readonly id: number;
  state: 'authorization' | 'transaction' | 'update';
  user?: string;
  tls: boolean;
  socket: Socket;
  /** The mailbox as this session sees it (message n = index n-1). */
  readonly messages: FakeMessage[];
  readonly deleted: Set<number>;
  write(data: string | Buffer): void;
  readLine(): Promise<string | null>;
}

export interface FakePop3Server {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Every line a client sent ("C[n]: …") and every status line sent back ("S[n]: …"), all sessions. */
  readonly transcript: string[];
  readonly sessions: FakeSession[];
  /** The mailbox now: QUIT in the transaction state removes the deleted messages. */
  readonly mailbox: FakeMessage[];
  stop(): Promise<void>;
}

export const DEFAULT_SASL: readonly string[] = SASL_MECHANISMS;
export const GREETING_TIMESTAMP = '<1896.697170952@fake.test>';

function toMessage(
  input: string | Buffer | { uid?: string; body: string | Buffer },
  index: number,
): FakeMessage {
  const value = typeof input === 'string' || Buffer.isBuffer(input) ? { body: input } : input;
  return { uid: value.uid ?? `uid-${index + 1}`, body: Buffer.from(value.body) };
}

/** The bytes of a multi-line reply: status line, dot-stuffed body, terminator. */
export function multiline(status: string, body: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from(`${status}\r\n`), encodeDotStuffed(Buffer.from(body))]);
}

export async function startFakePop3Server(options: FakeServerOptions = {}): Promise<FakePop3Server> {
  const mailbox = (options.messages ?? []).map(toMessage);
  const transcript: string[] = [];
  const sessions: FakeSession[] = [];
  const sockets = new Set<Socket>();
  const context = options.tls
    ? createSecureContext({ cert: options.tls.certPem, key: options.tls.keyPem })
    : undefined;
  const server: Server = createServer((raw) => {
    let socket: Socket = raw;
    if (options.implicitTls && context)
      socket = new TLSSocket(raw, { isServer: true, secureContext: context });
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    const session = openSession(sessions.length + 1, socket, mailbox, transcript);
    sessions.push(session);
    void runSession(session, options, mailbox, context).catch(() => session.socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('fake POP3 server: no port');
  return {
    host: '127.0.0.1',
    port: address.port,
    transcript,
    sessions,
    mailbox,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function openSession(id: number, socket: Socket, mailbox: FakeMessage[], transcript: string[]): FakeSession {
  const lines: string[] = [];
  let waiter: ((line: string | null) => void) | undefined;
  let buffered = '';
  let ended = false;
  const onData = (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    for (let lf = buffered.indexOf('\n'); lf !== -1; lf = buffered.indexOf('\n')) {
      const line = Buffer.from(buffered.slice(0, lf).replace(/\r$/, ''), 'latin1').toString('utf8');
      buffered = buffered.slice(lf + 1);
      transcript.push(`C[${id}]: ${line}`);
      if (waiter) {
        const wake = waiter;
        waiter = undefined;
        wake(line);
      } else lines.push(line);
    }
  };
  const onEnd = () => {
    ended = true;
    waiter?.(null);
  };
  const session: FakeSession = {
    id,
    state: 'authorization',
    tls: socket instanceof TLSSocket,
    socket,
    messages: [...mailbox],
    deleted: new Set(),
    write(data) {
      if (session.socket.destroyed) return;
      const text = Buffer.from(data).toString('utf8');
      transcript.push(`S[${id}]: ${text.split('\r\n', 1)[0]}`);
      session.socket.write(data);
    },
    readLine() {
      const next = lines.shift();
      if (next !== undefined) return Promise.resolve(next);
      if (ended) return Promise.resolve(null);
      return new Promise((resolve) => {
        waiter = resolve;
      });
    },
  };
  const listen = (target: Socket) => {
    target.on('data', onData);
    target.on('close', onEnd);
    target.on('error', () => {});
  };
  listen(socket);
  // STLS: the session swaps its socket; the line queue and waiter carry over.
  Object.defineProperty(session, 'rebind', {
    value: (next: Socket) => {
      socket.removeListener('data', onData);
      socket.removeListener('close', onEnd);
      buffered = '';
      lines.length = 0;
      session.socket = next;
      session.tls = true;
      listen(next);
    },
  });
  return session;
}

async function runSession(
  session: FakeSession,
  options: FakeServerOptions,
  mailbox: FakeMessage[],
  context: SecureContext | undefined,
): Promise<void> {
  if (options.silent) return;
  session.write(`+OK ${options.greeting ?? `fake POP3 ready ${GREETING_TIMESTAMP}`}\r\n`);
  for (let line = await session.readLine(); line !== null; line = await session.readLine()) {
    const [verb = '', ...args] = line.split(' ');
    const command = { verb: verb.toUpperCase(), args, line };
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    const override = options.overrides?.[command.verb];
    const reply = override ? await override(command, session) : undefined;
    if (reply === null) continue;
    if (reply !== undefined) {
      session.write(reply);
      continue;
    }
    await defaultReply(command, session, options, mailbox, context);
    if (session.socket.destroyed) return;
  }
}

function capabilities(session: FakeSession, options: FakeServerOptions): string[] {
  if (options.capabilities) return options.capabilities;
  const list = ['USER', 'RESP-CODES', 'AUTH-RESP-CODE', 'EXPIRE NEVER', 'IMPLEMENTATION fake-pop3'];
  if (options.top !== false) list.push('TOP');
  if (options.uidl !== false) list.push('UIDL');
  if (options.pipelining !== false) list.push('PIPELINING');
  if (options.utf8) list.push('UTF8');
  const sasl = options.sasl ?? DEFAULT_SASL;
  if (sasl.length > 0) list.push(`SASL ${sasl.join(' ')}`);
  if (options.tls && !options.hideStls && !session.tls) list.push('STLS');
  return [...list, ...(options.extraCapabilities ?? [])];
}

function message(session: FakeSession, arg: string | undefined): FakeMessage | undefined {
  const n = Number(arg);
  if (!Number.isInteger(n) || n < 1 || session.deleted.has(n)) return undefined;
  return session.messages[n - 1];
}

function live(session: FakeSession): Array<[number, FakeMessage]> {
  return session.messages
    .map((m, i) => [i + 1, m] as [number, FakeMessage])
    .filter(([n]) => !session.deleted.has(n));
}

async function defaultReply(
  command: FakeCommand,
  session: FakeSession,
  options: FakeServerOptions,
  mailbox: FakeMessage[],
  context: SecureContext | undefined,
): Promise<void> {
  const { verb, args } = command;
  const users = options.users ?? { alice: 'secret' };
  const inTransaction = session.state === 'transaction';
  const ok = (text = '') => session.write(`+OK ${text}\r\n`);
  const err = (text: string) => session.write(`-ERR ${text}\r\n`);
  const noSuch = () => err('no such message');
  const needTransaction = ['STAT', 'LIST', 'UIDL', 'RETR', 'TOP', 'DELE', 'RSET', 'NOOP'];
  if (needTransaction.includes(verb) && !inTransaction) return err('not logged in');
  const msg = message(session, args[0]);
  switch (verb) {
    case 'CAPA':
      return void session.write(
        multiline('+OK capabilities follow', `${capabilities(session, options).join('\r\n')}\r\n`),
      );
    case 'STLS':
      return startTls(session, options, context);
    case 'UTF8':
      return options.utf8 ? ok('UTF8 enabled') : err('unknown command');
    case 'USER':
      session.user = args[0];
      return ok('send PASS');
    case 'PASS':
      return login(session, session.user !== undefined && users[session.user] === args.join(' '));
    case 'APOP': {
      const password = users[args[0] ?? ''];
      const expected =
        password &&
        createHash('md5')
          .update(GREETING_TIMESTAMP + password)
          .digest('hex');
      session.user = args[0];
      return login(session, expected === args[1]);
    }
    case 'AUTH':
      return login(session, await saslServer(session, args, options));
    case 'STAT': {
      const all = live(session);
      return ok(`${all.length} ${all.reduce((sum, [, m]) => sum + m.body.length, 0)}`);
    }
    case 'LIST':
    case 'UIDL': {
      const field = (n: number, m: FakeMessage) => `${n} ${verb === 'LIST' ? m.body.length : m.uid}`;
      if (args[0] !== undefined) return msg ? ok(field(Number(args[0]), msg)) : noSuch();
      const lines = live(session).map(([n, m]) => `${field(n, m)}\r\n`);
      return void session.write(multiline('+OK listing follows', lines.join('')));
    }
    case 'RETR':
      return msg ? void session.write(multiline(`+OK ${msg.body.length} octets`, msg.body)) : noSuch();
    case 'TOP':
      return msg
        ? void session.write(multiline('+OK top follows', topOf(msg.body, Number(args[1]))))
        : noSuch();
    case 'DELE':
      if (!msg) return noSuch();
      session.deleted.add(Number(args[0]));
      return ok('deleted');
    case 'RSET':
      session.deleted.clear();
      return ok();
    case 'NOOP':
      return ok();
    case 'QUIT':
      if (inTransaction) {
        session.state = 'update';
        const gone = new Set([...session.deleted].map((n) => session.messages[n - 1]));
        const kept = mailbox.filter((m) => !gone.has(m));
        mailbox.splice(0, mailbox.length, ...kept);
      }
      ok('bye');
      session.socket.end();
      return;
    default:
      return err('unknown command');
  }
}

function login(session: FakeSession, success: boolean | 'cancelled'): void {
  if (success === true) {
    session.state = 'transaction';
    session.write('+OK logged in\r\n');
  } else if (success === 'cancelled') {
    session.write('-ERR authentication cancelled\r\n');
  } else {
    session.write('-ERR [AUTH] invalid credentials\r\n');
  }
}

function topOf(body: Buffer, lines: number): Buffer {
  const text = body.toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  if (split === -1) return body;
  const bodyLines = text
    .slice(split + 4)
    .split('\r\n')
    .slice(0, lines);
  return Buffer.from(`${text.slice(0, split + 4)}${bodyLines.map((l) => `${l}\r\n`).join('')}`, 'latin1');
}

async function startTls(
  session: FakeSession,
  options: FakeServerOptions,
  context: SecureContext | undefined,
) {
  if (!context || session.tls) return void session.write('-ERR STLS not available\r\n');
  session.write(`+OK begin TLS\r\n${options.stlsInjection ?? ''}`);
  const secure = new TLSSocket(session.socket, { isServer: true, secureContext: context });
  (session as unknown as { rebind(socket: Socket): void }).rebind(secure);
}

async function challenge(session: FakeSession, data: string | Buffer): Promise<string | null> {
  session.write(`+ ${Buffer.from(data).toString('base64')}\r\n`);
  const line = await session.readLine();
  return line === '*' ? null : line;
}

/** The first client message: the initial response, or the answer to an empty challenge (RFC 5034 §4). */
async function firstMessage(session: FakeSession, initial: string | undefined): Promise<Buffer | null> {
  const text = initial ?? (await challenge(session, ''));
  if (text === null) return null;
  return text === '=' ? Buffer.alloc(0) : Buffer.from(text, 'base64');
}

async function saslServer(session: FakeSession, args: string[], options: FakeServerOptions) {
  const users = options.users ?? { alice: 'secret' };
  const tokens = options.tokens ?? {};
  const mechanism = (args[0] ?? '').toUpperCase();
  if (mechanism === 'LOGIN') {
    const user = await challenge(session, 'Username:');
    const pass = user === null ? null : await challenge(session, 'Password:');
    if (user === null || pass === null) return 'cancelled';
    session.user = Buffer.from(user, 'base64').toString();
    return users[session.user] === Buffer.from(pass, 'base64').toString();
  }
  if (mechanism === 'CRAM-MD5') {
    const nonce = `<${randomBytes(6).toString('hex')}@fake.test>`;
    const answer = await challenge(session, nonce);
    if (answer === null) return 'cancelled';
    const [user = '', digest] = Buffer.from(answer, 'base64').toString().split(' ');
    session.user = user;
    return users[user] !== undefined && createHmac('md5', users[user]).update(nonce).digest('hex') === digest;
  }
  const first = await firstMessage(session, args[1]);
  if (first === null) return 'cancelled';
  if (mechanism === 'PLAIN') {
    const [, user = '', pass] = first.toString('utf8').split('\0');
    session.user = user;
    return users[user] === pass;
  }
  if (mechanism === 'XOAUTH2' || mechanism === 'OAUTHBEARER') {
    const text = first.toString('utf8');
    const user = /(?:^|\x01)user=([^\x01]*)/.exec(text)?.[1] ?? /^n,a=([^,]*),/.exec(text)?.[1] ?? '';
    const token = /auth=Bearer ([^\x01]*)/.exec(text)?.[1];
    session.user = user;
    const valid =
      typeof tokens === 'function'
        ? token !== undefined && tokens(user, token)
        : tokens[user] !== undefined && tokens[user] === token;
    if (valid) return true;
    const answer = await challenge(session, '{"status":"401","schemes":"bearer"}');
    return answer === null ? 'cancelled' : false;
  }
  if (mechanism === 'SCRAM-SHA-1' || mechanism === 'SCRAM-SHA-256') {
    return scramServer(
      session,
      mechanism === 'SCRAM-SHA-1' ? 'sha1' : 'sha256',
      first.toString('utf8'),
      users,
    );
  }
  return false;
}

/** RFC 5802 §3 from the server's side, enough to check a proof and sign the answer. */
async function scramServer(
  session: FakeSession,
  hash: 'sha1' | 'sha256',
  clientFirst: string,
  users: Record<string, string>,
) {
  const bare = clientFirst.replace(/^[^,]*,[^,]*,/, '');
  const user = /(?:^|,)n=([^,]*)/.exec(bare)?.[1]?.replaceAll('=2C', ',').replaceAll('=3D', '=') ?? '';
  const clientNonce = /(?:^|,)r=([^,]*)/.exec(bare)?.[1] ?? '';
  session.user = user;
  const salt = randomBytes(16);
  const iterations = 4096;
  const serverFirst = `r=${clientNonce}${randomBytes(12).toString('base64')},s=${salt.toString('base64')},i=${iterations}`;
  const finalText = await challenge(session, serverFirst);
  if (finalText === null) return 'cancelled';
  const clientFinal = Buffer.from(finalText, 'base64').toString('utf8');
  const withoutProof = clientFinal.replace(/,p=[^,]*$/, '');
  const proof = Buffer.from(/,p=([^,]*)$/.exec(clientFinal)?.[1] ?? '', 'base64');
  const password = users[user] ?? randomBytes(8).toString('hex');
  const salted = pbkdf2Sync(password, salt, iterations, hash === 'sha1' ? 20 : 32, hash);
  const hmac = (key: Buffer, data: string) => createHmac(hash, key).update(data).digest();
  const authMessage = `${bare},${serverFirst},${withoutProof}`;
  const clientKey = hmac(salted, 'Client Key');
  const storedKey = createHash(hash).update(clientKey).digest();
  const signature = hmac(storedKey, authMessage);
  const expected = Buffer.from(clientKey.map((byte, i) => byte ^ (signature[i] ?? 0)));
  if (!proof.equals(expected)) return false;
  const serverSignature = hmac(hmac(salted, 'Server Key'), authMessage).toString('base64');
  const last = await challenge(session, `v=${serverSignature}`);
  return last === null ? 'cancelled' : true;
}

/** Overrides for the classic failures; combine with `overrides: { RETR: faults.dropMidRetr() }`. */
export const faults = {
  /** Sends +OK and the first `bytes` of the stuffed body, then drops the connection. */
  dropMidRetr(bytes = 64): FakeHandler {
    return (command, session) => {
      const msg = session.messages[Number(command.args[0]) - 1];
      const full = multiline('+OK here it comes', msg?.body ?? Buffer.alloc(1000, 'x'));
      session.socket.end(full.subarray(0, Math.min(bytes, full.length - 5)));
      return null;
    };
  },
  /** An -ERR with an RFC 2449 response code, e.g. IN-USE, LOGIN-DELAY, SYS/TEMP. */
  errWithCode(code: string, text = 'try later'): FakeHandler {
    return () => `-ERR [${code}] ${text}\r\n`;
  },
  /** Never answers. */
  silent(): FakeHandler {
    return () => null;
  },
  /** A line that never ends: writes until the client hangs up. */
  endlessLine(): FakeHandler {
    return (_command, session) => {
      const block = Buffer.alloc(16 * 1024, 'a');
      const pump = () => {
        while (!session.socket.destroyed && session.socket.write(block)) {}
        if (!session.socket.destroyed) session.socket.once('drain', pump);
      };
      session.socket.write('+OK ');
      pump();
      return null;
    };
  },
  /** Something that is not POP3 at all. */
  garbage(): FakeHandler {
    return () => 'HTTP/1.1 400 Bad Request\r\n';
  },
};
