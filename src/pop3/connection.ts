// One POP3 conversation over an already-open socket: writes commands, matches replies to them in order
// (RFC 2449 §6.6 pipelining when allowed), feeds status lines and dot-terminated bodies to the pure
// parsers, and owns the idle timer. Any broken bound, protocol error, timeout or abort ends the whole
// connection: after that the reply stream cannot be trusted to line up with the commands.
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { type BodySink, ListingSink, StreamSink } from './body-sinks.ts';
import { type EncodedCommand, MASK } from './commands.ts';
import { DotDecoder } from './dot-decoder.ts';
import { isPop3Error, Pop3Error } from './errors.ts';
import { LineReader } from './line-reader.ts';
import { SignalWatch } from './signal-watch.ts';
import { isAllowed, isPipelinable } from './state.ts';
import { errorFromStatus, parseStatusLine, printable, type StatusLine } from './status.ts';
import type { Pop3Logger, Pop3State } from './types.ts';

export interface ConnectionOptions {
  maxLineBytes: number;
  maxListingBytes: number;
  commandTimeoutMs: number;
  maxInFlight: number;
  logger: Pop3Logger | undefined;
}

export type OkStatus = Extract<StatusLine, { kind: 'ok' }>;
export type ListingReply = OkStatus & { body: Buffer };

interface SendOptions {
  signal?: AbortSignal | undefined;
  /** SASL: called with the text of each "+ " continuation line. */
  onContinue?: (text: string) => void;
  /** STLS: on +OK, let go of the socket and insist that nothing followed the reply. */
  handover?: boolean;
  maxBytes?: number | undefined;
}

type Kind = 'line' | 'listing' | 'stream';

interface Pending {
  readonly cmd: EncodedCommand | null; // null: the greeting
  readonly label: string;
  readonly kind: Kind;
  readonly timeoutMs: number;
  readonly options: SendOptions;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  sink?: BodySink;
  removeAbort?: () => void;
}

const TRANSCRIPT_LINES = 500;

export class Pop3Connection {
  state: Pop3State = 'authorization';
  /** Set once CAPA says PIPELINING (and the caller allows it). */
  pipelining = false;
  readonly #options: ConnectionOptions;
  #socket: Socket;
  #lines: LineReader;
  #decoder: DotDecoder | null = null;
  readonly #queue: Pending[] = [];
  readonly #inFlight: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #paused = false;
  #closed = false;
  #socketError: Error | undefined;
  /** Why the connection ended: later calls fail with it, so the first cause is never masked. */
  #failure: Error | undefined;
  readonly #transcript: string[] = [];
  readonly #aborts = new SignalWatch((signal) => this.#aborted(signal));

  constructor(socket: Socket, options: ConnectionOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#lines = new LineReader(options.maxLineBytes);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The error that ended the connection (POP3_PROTOCOL, a timeout, the server's close…), once closed. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  get socket(): Socket {
    return this.#socket;
  }

  /** The conversation so far, "C: …" and "S: …", secrets masked, bodies summarised. */
  get transcript(): readonly string[] {
    return this.#transcript;
  }

  /** Starts listening and waits for the server's first line (RFC 1939 §4). */
  greeting(timeoutMs: number): Promise<OkStatus> {
    this.#attach();
    return new Promise<OkStatus>((resolve, reject) => {
      const pending = this.#pending(null, 'greeting', 'line', {}, resolve, reject, timeoutMs);
      this.#inFlight.push(pending);
      this.#armTimer();
    });
  }

  sendLine(cmd: EncodedCommand, options: SendOptions = {}): Promise<OkStatus> {
    return this.#enqueue<OkStatus>(cmd, 'line', options);
  }

  sendListing(cmd: EncodedCommand, options: SendOptions = {}): Promise<ListingReply> {
    return this.#enqueue<ListingReply>(cmd, 'listing', options);
  }

  sendStream(cmd: EncodedCommand, options: SendOptions = {}): Promise<Readable> {
    return this.#enqueue<Readable>(cmd, 'stream', options);
  }

  /** Runs `send`, which enqueues several commands, so that what it sends leaves in one write. */
  batch<T>(send: () => T): T {
    this.#socket.cork();
    try {
      return send();
    } finally {
      this.#socket.uncork();
    }
  }

  /** Answers a SASL challenge of the command in flight (RFC 5034 §4). */
  writeContinuation(line: { bytes: Buffer; masked: string }): void {
    if (this.#closed) return;
    this.#record('C', line.masked);
    this.#socket.write(line.bytes);
    this.#armTimer();
  }

  /** After STLS: takes the TLS socket that wraps the old one; a fresh line reader (RFC 2595 §4). */
  replaceSocket(socket: Socket): void {
    this.#socket = socket;
    this.#lines = new LineReader(this.#options.maxLineBytes);
    if (this.#closed) socket.destroy();
    else this.#attach();
  }

  /** Idempotent hard close: every pending call rejects with `error` (default POP3_CONNECTION_CLOSED). */
  close(error?: Error): void {
    this.#fail(error ?? new Pop3Error('POP3_CONNECTION_CLOSED', 'connection closed by the client'));
  }

  #enqueue<T>(cmd: EncodedCommand, kind: Kind, options: SendOptions): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#closed) return reject(this.#failure ?? closedError());
      if (options.signal?.aborted) return reject(abortError(cmd.masked));
      const effectiveKind = cmd.multiline ? kind : 'line';
      const pending = this.#pending(
        cmd,
        cmd.masked,
        effectiveKind,
        options,
        resolve as (v: unknown) => void,
        reject,
      );
      this.#listenForAbort(pending);
      this.#queue.push(pending);
      this.#pump();
    });
  }

  #pending(
    cmd: EncodedCommand | null,
    label: string,
    kind: Kind,
    options: SendOptions,
    resolve: (value: never) => void,
    reject: (error: Error) => void,
    timeoutMs = this.#options.commandTimeoutMs,
  ): Pending {
    return { cmd, label, kind, options, timeoutMs, resolve: resolve as (value: unknown) => void, reject };
  }

  #listenForAbort(pending: Pending): void {
    const signal = pending.options.signal;
    if (signal) pending.removeAbort = this.#aborts.watch(signal);
  }

  #aborted(signal: AbortSignal): void {
    const onWire = this.#inFlight.find((pending) => pending.options.signal === signal);
    // Already on the wire: its reply would desynchronise everything after it.
    if (onWire) {
      this.#fail(abortError(onWire.label));
      return;
    }
    const queued = this.#queue.splice(0);
    for (const pending of queued) {
      if (pending.options.signal === signal) pending.reject(abortError(pending.label));
      else this.#queue.push(pending);
    }
  }

  #canSendNow(next: Pending): boolean {
    if (this.#inFlight.length === 0) return true;
    if (!this.pipelining || this.#inFlight.length >= this.#options.maxInFlight) return false;
    const pipelinable = (p: Pending) => p.cmd !== null && isPipelinable(p.cmd.name);
    return pipelinable(next) && this.#inFlight.every(pipelinable);
  }

  #pump(): void {
    // One write for a pipelined batch: with Nagle and delayed ACKs, separate small writes would trail
    // the first one by an ACK delay (RFC 2449 §6.6 asks clients to send batches).
    this.#socket.cork();
    while (!this.#closed && this.#queue.length > 0 && this.#canSendNow(this.#queue[0]!)) {
      const next = this.#queue.shift()!;
      const cmd = next.cmd!;
      if (!isAllowed(this.state, cmd.name)) {
        next.removeAbort?.();
        next.reject(new Pop3Error('POP3_STATE', `${cmd.name} is not allowed in the ${this.state} state`));
        continue;
      }
      this.#record('C', cmd.masked);
      this.#inFlight.push(next);
      this.#socket.write(cmd.bytes);
    }
    this.#socket.uncork();
    this.#armTimer();
  }

  #attach(): void {
    this.#socket.on('data', this.#onData);
    this.#socket.on('error', this.#onError);
    this.#socket.on('close', this.#onClose);
  }

  #detach(): void {
    this.#socket.pause();
    this.#socket.removeListener('data', this.#onData);
    this.#socket.removeListener('error', this.#onError);
    this.#socket.removeListener('close', this.#onClose);
  }

  readonly #onError = (error: Error) => {
    this.#socketError = error;
  };

  readonly #onClose = () => {
    const cause = this.#socketError;
    this.#fail(
      new Pop3Error('POP3_CONNECTION_CLOSED', 'the server closed the connection', cause ? { cause } : {}),
    );
  };

  readonly #onData = (chunk: Buffer) => {
    // Corked while a chunk is read: the commands its replies make room for leave in one write, not one
    // each (a server answers a pipelined batch in one chunk). The socket is captured: STLS replaces it.
    const socket = this.#socket;
    socket.cork();
    try {
      this.#consume(chunk);
    } catch (error) {
      this.#fail(
        isPop3Error(error) ? error : new Pop3Error('POP3_PROTOCOL', String(error), { cause: error }),
      );
    } finally {
      socket.uncork();
    }
  };

  #consume(chunk: Buffer): void {
    this.#armTimer();
    let i = 0;
    while (i < chunk.length && !this.#closed) {
      const head = this.#inFlight[0];
      if (!head) throw new Pop3Error('POP3_PROTOCOL', 'the server sent data nobody asked for');
      if (this.#decoder) {
        const result = this.#decoder.decode(chunk, i);
        i = result.end;
        if (result.parts.length > 0 && !head.sink!.write(result.parts)) this.#pause();
        if (result.done) this.#finishBody(head);
        continue;
      }
      const read = this.#lines.read(chunk, i);
      if (!read) return;
      i = read.end;
      const handedOver = this.#onStatusLine(head, read.line, i < chunk.length);
      if (handedOver) return;
    }
  }

  /** Returns true when the socket was handed over (STLS) and nothing more may be read here. */
  #onStatusLine(head: Pending, line: Buffer, moreBytes: boolean): boolean {
    const status = parseStatusLine(line);
    this.#record('S', status.kind === 'continue' ? `+ ${MASK}` : printable(line.toString('utf8'), 500));
    if (status.kind === 'continue') {
      if (!head.options.onContinue)
        throw new Pop3Error('POP3_PROTOCOL', `unexpected "+ " reply to ${head.label}`);
      head.options.onContinue(status.text);
      return false;
    }
    // RFC 1939 §6: whatever the answer to QUIT, the session is over.
    if (head.cmd?.name === 'QUIT') this.state = 'closed';
    if (status.kind === 'err') {
      this.#complete(head);
      head.reject(errorFromStatus(status, head.label));
      return false;
    }
    if (head.options.handover) return this.#handOver(head, status, moreBytes);
    if (head.kind === 'line') {
      this.#complete(head);
      head.resolve(status);
    } else if (head.kind === 'listing') {
      head.sink = new ListingSink(this.#options.maxListingBytes, (body) => head.resolve({ ...status, body }));
      this.#decoder = new DotDecoder();
    } else {
      const sink = new StreamSink({ maxBytes: head.options.maxBytes, onDrain: () => this.#resume() });
      head.sink = sink;
      this.#decoder = new DotDecoder();
      head.resolve(sink.stream);
    }
    return false;
  }

  #handOver(head: Pending, status: OkStatus, moreBytes: boolean): boolean {
    this.#detach();
    if (moreBytes || this.#socket.readableLength > 0) {
      // RFC 2595 §4 / CVE-2011-0411 class: plaintext injected to be read as if it came over TLS.
      throw new Pop3Error('POP3_STLS_INJECTION', 'bytes arrived after +OK to STLS, before the TLS handshake');
    }
    this.#complete(head);
    head.resolve(status);
    return true;
  }

  #finishBody(head: Pending): void {
    this.#decoder = null;
    const sink = head.sink!;
    this.#complete(head);
    sink.end();
  }

  #complete(head: Pending): void {
    this.#inFlight.shift();
    head.removeAbort?.();
    this.#pump();
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#socket.pause();
    this.#armTimer(); // the wait is on our consumer now, not on the server
  }

  #resume(): void {
    if (!this.#paused || this.#closed) return;
    this.#paused = false;
    this.#socket.resume();
    this.#armTimer();
  }

  #armTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const head = this.#inFlight[0];
    if (this.#closed || this.#paused || !head) return;
    this.#timer = setTimeout(() => {
      const code = head.cmd ? 'POP3_COMMAND_TIMEOUT' : 'POP3_GREETING_TIMEOUT';
      this.#fail(new Pop3Error(code, `no reply to ${head.label} within ${head.timeoutMs} ms`));
    }, head.timeoutMs);
  }

  #fail(error: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#failure = error;
    this.state = 'closed';
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#decoder = null;
    this.#detach();
    this.#socket.destroy();
    for (const pending of [...this.#inFlight.splice(0), ...this.#queue.splice(0)]) {
      pending.removeAbort?.();
      pending.sink?.fail(error);
      pending.reject(error);
    }
  }

  #record(direction: 'C' | 'S', line: string): void {
    const entry = `${direction}: ${line}`;
    this.#transcript.push(entry);
    if (this.#transcript.length > TRANSCRIPT_LINES) this.#transcript.shift();
    this.#options.logger?.debug({ pop3: entry }, 'pop3 transcript');
  }
}

function closedError(): Pop3Error {
  return new Pop3Error('POP3_CONNECTION_CLOSED', 'the connection is closed');
}

function abortError(label: string): Pop3Error {
  return new Pop3Error('POP3_ABORTED', `${label} aborted`);
}
