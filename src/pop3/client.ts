// Pop3Client: the public face of the POP3 client. Connects (implicit TLS, STLS or plain), reads the
// greeting and CAPA, logs in, and offers the RFC 1939 verbs; one Pop3Connection does the wire work.
import type { Readable } from 'node:stream';
import { authenticate } from './auth.ts';
import { type Capabilities, NO_CAPABILITIES, parseCapabilities } from './capabilities.ts';
import { checkMessageNumber, encodeCommand } from './commands.ts';
import { Pop3Connection } from './connection.ts';
import { isPop3Error, Pop3Error } from './errors.ts';
import { DEFAULT_MAX_LINE_BYTES } from './line-reader.ts';
import { listingLines, parseList, parseListLine, parseStat, parseUidl, parseUidlLine } from './listings.ts';
import { awaitGreeting, guardSession } from './opening.ts';
import { assertAllowed } from './state.ts';
import { describeTls, openSocket, type TransportParams, upgradeSocket } from './transport.ts';
import {
  type CallOptions,
  defaultPort,
  type MailboxStat,
  type MessageSize,
  type MessageUid,
  type Pop3ClientOptions,
  type Pop3Credentials,
  type Pop3State,
  type RetrOptions,
  type TlsInfo,
} from './types.ts';

export const DEFAULTS = {
  connectTimeoutMs: 15_000,
  greetingTimeoutMs: 15_000,
  commandTimeoutMs: 60_000,
  maxLineBytes: DEFAULT_MAX_LINE_BYTES,
  maxListingBytes: 64 * 1024 * 1024,
  maxInFlight: 32,
  /** A server that trickles bytes keeps every idle timer alive; this bounds the whole session. */
  sessionTimeoutMs: 30 * 60_000,
} as const;

/**
 * DELEs sent at once. A session deletes every message delivered since the last (thousands after a backlog):
 * a pending reply each, all alive until the last reply, outlived the young generation and were promoted,
 * for the next full collection to sweep (docs/performance.md).
 */
export const DELE_CHUNK = 256;

export class Pop3Client {
  readonly greeting: string;
  readonly #connection: Pop3Connection;
  readonly #options: Pop3ClientOptions;
  readonly #port: number;
  #capabilities: Capabilities;
  #tlsInfo: TlsInfo | null;
  #utf8 = false;
  #removeSessionAbort: (() => void) | undefined;

  private constructor(
    connection: Pop3Connection,
    options: Pop3ClientOptions,
    port: number,
    greeting: string,
    removeSessionAbort: () => void,
  ) {
    this.#connection = connection;
    this.#options = options;
    this.#port = port;
    this.greeting = greeting;
    this.#capabilities = NO_CAPABILITIES;
    this.#tlsInfo = describeTls(connection.socket);
    this.#removeSessionAbort = removeSessionAbort;
  }

  /** TCP/TLS, greeting, CAPA; with 'starttls' also STLS, handshake and CAPA again (RFC 2595 §4). */
  static async connect(options: Pop3ClientOptions): Promise<Pop3Client> {
    const port = options.port ?? defaultPort(options.tls);
    const params = (timeoutMs: number): TransportParams => ({
      host: options.host,
      port,
      options,
      timeoutMs,
      signal: options.signal,
    });
    const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
    const socket = await openSocket(params(connectTimeoutMs));
    const connection = new Pop3Connection(socket, {
      maxLineBytes: options.maxLineBytes ?? DEFAULTS.maxLineBytes,
      maxListingBytes: options.maxListingBytes ?? DEFAULTS.maxListingBytes,
      commandTimeoutMs: options.commandTimeoutMs ?? DEFAULTS.commandTimeoutMs,
      maxInFlight: Math.max(1, options.maxInFlight ?? DEFAULTS.maxInFlight),
      logger: options.logger,
    });
    const removeSessionAbort = guardSession(
      connection,
      options.sessionTimeoutMs ?? DEFAULTS.sessionTimeoutMs,
      options.signal,
    );
    try {
      const greetingTimeoutMs = options.greetingTimeoutMs ?? DEFAULTS.greetingTimeoutMs;
      const greeting = await awaitGreeting(connection, params(connectTimeoutMs), greetingTimeoutMs);
      const client = new Pop3Client(connection, options, port, greeting.text, removeSessionAbort);
      await client.#refreshCapabilities();
      if (options.tls === 'starttls') await client.#startTls(params(connectTimeoutMs));
      return client;
    } catch (error) {
      removeSessionAbort();
      connection.close();
      throw error;
    }
  }

  get capabilities(): Capabilities {
    return this.#capabilities;
  }

  get tlsInfo(): TlsInfo | null {
    return this.#tlsInfo;
  }

  get state(): Pop3State {
    return this.#connection.state;
  }

  /** True once the server accepted UTF8 (RFC 6856). */
  get utf8(): boolean {
    return this.#utf8;
  }

  /** The conversation so far ("C: …", "S: …"), secrets masked, bounded to the last 500 lines. */
  get transcript(): readonly string[] {
    return this.#connection.transcript;
  }

  async login(credentials: Pop3Credentials, opts: CallOptions = {}): Promise<void> {
    assertAllowed(this.state, 'USER');
    const context = {
      connection: this.#connection,
      capabilities: this.#capabilities,
      greeting: this.greeting,
      tlsMode: this.#options.tls,
      secure: this.#tlsInfo !== null,
      host: this.#options.host,
      port: this.#port,
      signal: opts.signal,
    };
    try {
      await this.#enableUtf8(context.secure || credentials.allowPlaintextAuth === true, opts);
      await authenticate(context, credentials);
    } catch (error) {
      // A SASL exchange we could not verify leaves the server in an unknown state: don't go on.
      if (isPop3Error(error, 'POP3_SASL_FAILED')) this.close();
      throw error;
    }
    this.#connection.state = 'transaction';
    // RFC 2449 §5: capabilities may differ after login (PIPELINING, EXPIRE, LOGIN-DELAY per user).
    await this.#refreshCapabilities(opts);
  }

  async stat(opts: CallOptions = {}): Promise<MailboxStat> {
    const reply = await this.#line('STAT', [], opts);
    return parseStat(reply.text);
  }

  async list(opts: CallOptions = {}): Promise<MessageSize[]> {
    return parseList(await this.#listing('LIST', opts));
  }

  async listOne(msg: number, opts: CallOptions = {}): Promise<MessageSize> {
    checkMessageNumber(msg);
    const entry = parseListLine((await this.#line('LIST', [msg], opts)).text);
    return sameMessage(entry, msg);
  }

  async uidl(opts: CallOptions = {}): Promise<MessageUid[]> {
    return parseUidl(await this.#listing('UIDL', opts));
  }

  async uidlOne(msg: number, opts: CallOptions = {}): Promise<MessageUid> {
    checkMessageNumber(msg);
    const entry = parseUidlLine((await this.#line('UIDL', [msg], opts)).text);
    return sameMessage(entry, msg);
  }

  /** The message's exact bytes, dot-unstuffed; the next command waits until the body has been read off the wire. */
  retr(msg: number, opts: RetrOptions = {}): Promise<Readable> {
    return this.#stream('RETR', [msg], opts);
  }

  /** Headers, the blank line and `lines` body lines (RFC 1939 §7). */
  top(msg: number, lines: number, opts: RetrOptions = {}): Promise<Readable> {
    if (!Number.isSafeInteger(lines) || lines < 0) {
      return Promise.reject(
        new Pop3Error('POP3_BAD_ARGUMENT', 'TOP line count must be a non-negative integer'),
      );
    }
    return this.#stream('TOP', [msg, lines], opts);
  }

  /**
   * RETR each message and hand its body to `handler`, in order. With PIPELINING up to maxInFlight RETRs
   * are on the wire ahead of the handler; without, one by one. A body the handler leaves unread is
   * discarded when the handler returns. On the first failure the remaining bodies are discarded.
   */
  retrEach(
    msgs: readonly number[],
    handler: (msg: number, body: Readable) => Promise<void>,
    opts: RetrOptions = {},
  ): Promise<void> {
    return this.#each(msgs, (msg) => this.retr(msg, opts), handler);
  }

  /** TOP each message (headers and `lines` body lines), pipelined like retrEach. */
  topEach(
    msgs: readonly number[],
    lines: number,
    handler: (msg: number, body: Readable) => Promise<void>,
    opts: RetrOptions = {},
  ): Promise<void> {
    return this.#each(msgs, (msg) => this.top(msg, lines, opts), handler);
  }

  async #each(
    msgs: readonly number[],
    start: (msg: number) => Promise<Readable>,
    handler: (msg: number, body: Readable) => Promise<void>,
  ): Promise<void> {
    for (const msg of msgs) checkMessageNumber(msg);
    const window = this.#connection.pipelining ? (this.#options.maxInFlight ?? DEFAULTS.maxInFlight) : 1;
    // Started and not yet handed over, in order. A body leaves it when its turn comes, so a long session
    // holds the window, not every body it read (6,000 held bodies were 22 MB).
    const waiting: Array<Promise<Readable>> = [];
    let launched = 0;
    const launch = (upTo: number) => {
      while (launched < Math.min(msgs.length, upTo)) {
        const next = start(msgs[launched++]!);
        next.catch(() => {}); // observed below, in order
        waiting.push(next);
      }
    };
    for (let k = 0; k < msgs.length; k++) {
      // Refill once half the window has drained: the RETRs then leave in batches, a write for many.
      if (launched - k <= Math.floor(window / 2)) this.#connection.batch(() => launch(k + window));
      try {
        const body = await waiting.shift()!;
        try {
          await handler(msgs[k]!, body);
        } finally {
          if (!body.readableEnded) body.destroy();
        }
      } catch (error) {
        for (const rest of waiting)
          rest.then(
            (body) => body.destroy(),
            () => {},
          );
        throw error;
      }
    }
  }

  async dele(msg: number, opts: CallOptions = {}): Promise<void> {
    await this.#line('DELE', [msg], opts);
  }

  /**
   * DELE each message, pipelined when allowed: DELE_CHUNK commands a write, each chunk's replies awaited
   * before the next is sent. Throws the first error of a chunk once its every reply arrived, sending no
   * more (a session that fails sends no QUIT, so the server commits none of them: RFC 1939 §6).
   */
  async deleMany(msgs: readonly number[], opts: CallOptions = {}): Promise<void> {
    for (const msg of msgs) checkMessageNumber(msg);
    this.#checkState('DELE');
    for (let from = 0; from < msgs.length; from += DELE_CHUNK) {
      const chunk = msgs.slice(from, from + DELE_CHUNK);
      const sent = this.#connection.batch(() =>
        chunk.map((msg) => this.#connection.sendLine(encodeCommand('DELE', [msg]), { signal: opts.signal })),
      );
      const results = await Promise.allSettled(sent);
      const failed = results.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
    }
  }

  async rset(opts: CallOptions = {}): Promise<void> {
    await this.#line('RSET', [], opts);
  }

  async noop(opts: CallOptions = {}): Promise<void> {
    await this.#line('NOOP', [], opts);
  }

  /**
   * QUIT after every earlier reply has arrived (never pipelined). Resolves on +OK: the server committed
   * its UPDATE state (RFC 1939 §6). Throws otherwise. Closes the connection either way.
   */
  async quit(opts: CallOptions = {}): Promise<void> {
    try {
      await this.#line('QUIT', [], opts);
    } finally {
      this.close();
    }
  }

  /** Idempotent hard close; pending calls reject with POP3_CONNECTION_CLOSED. */
  close(): void {
    this.#removeSessionAbort?.();
    this.#removeSessionAbort = undefined;
    this.#connection.close();
  }

  async #line(
    name: 'STAT' | 'LIST' | 'UIDL' | 'DELE' | 'RSET' | 'NOOP' | 'QUIT',
    args: number[],
    opts: CallOptions,
  ) {
    for (const arg of args) checkMessageNumber(arg);
    this.#checkState(name);
    return this.#connection.sendLine(encodeCommand(name, args), { signal: opts.signal });
  }

  async #listing(name: 'LIST' | 'UIDL', opts: CallOptions): Promise<Buffer> {
    this.#checkState(name);
    const reply = await this.#connection.sendListing(encodeCommand(name), { signal: opts.signal });
    return reply.body;
  }

  async #stream(name: 'RETR' | 'TOP', args: number[], opts: RetrOptions): Promise<Readable> {
    checkMessageNumber(args[0]!);
    this.#checkState(name);
    const maxBytes = opts.maxBytes;
    return this.#connection.sendStream(encodeCommand(name, args), { signal: opts.signal, maxBytes });
  }

  #checkState(name: Parameters<typeof assertAllowed>[1]): void {
    if (this.#connection.closed) {
      throw this.#connection.failure ?? new Pop3Error('POP3_CONNECTION_CLOSED', 'the connection is closed');
    }
    assertAllowed(this.state, name);
  }

  async #refreshCapabilities(opts: CallOptions = {}): Promise<void> {
    try {
      const reply = await this.#connection.sendListing(encodeCommand('CAPA'), { signal: opts.signal });
      this.#capabilities = parseCapabilities(listingLines(reply.body));
    } catch (error) {
      // RFC 2449 §5: a server without CAPA answers -ERR; it then has no extensions we may rely on.
      if (!isPop3Error(error, 'POP3_ERR')) throw error;
      this.#capabilities = NO_CAPABILITIES;
    }
    this.#connection.pipelining = this.#options.pipelining !== false && this.#capabilities.pipelining;
  }

  async #startTls(params: TransportParams): Promise<void> {
    if (!this.#capabilities.stls) {
      throw new Pop3Error('POP3_STLS_UNAVAILABLE', 'tls: starttls, but the server does not offer STLS', {
        retryable: false,
      });
    }
    await this.#connection.sendLine(encodeCommand('STLS'), { signal: params.signal, handover: true });
    const secure = await upgradeSocket(this.#connection.socket, params);
    this.#connection.replaceSocket(secure);
    this.#tlsInfo = describeTls(secure);
    // RFC 2595 §4: forget what was learned before TLS and ask again.
    this.#capabilities = NO_CAPABILITIES;
    await this.#refreshCapabilities({ signal: params.signal });
  }

  /**
   * RFC 6856 §2: UTF8 is only valid in the AUTHORIZATION state, so it goes before the credentials (and
   * after STLS, which may not follow it). A refusal just leaves UTF-8 mode off.
   */
  async #enableUtf8(allowed: boolean, opts: CallOptions): Promise<void> {
    if (!allowed || !this.#capabilities.utf8 || this.#utf8) return;
    try {
      await this.#connection.sendLine(encodeCommand('UTF8'), { signal: opts.signal });
      this.#utf8 = true;
    } catch (error) {
      if (!isPop3Error(error, 'POP3_ERR')) throw error;
    }
  }
}

function sameMessage<T extends { msg: number }>(entry: T, msg: number): T {
  if (entry.msg !== msg) {
    throw new Pop3Error('POP3_PROTOCOL', `asked about message ${msg}, the server answered for ${entry.msg}`);
  }
  return entry;
}
