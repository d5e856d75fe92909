// A pool of worker threads that turn raw messages into payload JSON off the main event loop. mailparser can
// spin for minutes on hostile input (DESIGN.md, Known traps), and nothing can interrupt a thread's own
// loop, so the time budget lives here: a parse over budget terminates its thread and a fresh one takes
// its place. resourceLimits bound a thread's heap, so a memory bomb kills that thread, not the process.
// Big messages take `spool`: the raw bytes sit once in shared memory (no copy for the thread) and the
// thread writes the JSON into a file instead of answering with it.
// A thread holds up to PIPELINE_DEPTH parses and works through them one after another: it goes from one
// to the next without waiting for the main thread, and each parse's budget starts when it is its turn.
import { Worker } from 'node:worker_threads';
import { PophookError } from '../errors.ts';
import { COMPILED } from '../package-files.ts';
import type { RouteFacts } from './route-facts.ts';
import type { SpoolResult } from './spool-payload.ts';
import type { ParseAnswer, ParseRequest, ThreadData, ThreadMessage } from './thread-protocol.ts';
import type {
  AttachmentPlacement,
  MailboxPayloadOptions,
  ParseLimits,
  PayloadMeta,
  PayloadSummary,
  ReferencedParts,
} from './types.ts';

export interface ParserPoolOptions {
  /** Threads, at most; each starts on first need and is kept. */
  size: number;
  limits: ParseLimits;
  /** Per mailbox id (trusted authserv-ids…); absent: every mailbox gets the defaults. */
  payloadOptions?: MailboxPayloadOptions;
  resourceLimits?: { maxOldGenerationSizeMb?: number };
}

/** A snapshot for metrics and health checks. */
export interface ParserPoolStats {
  threads: number;
  busy: number;
  queued: number;
  /** Threads ended for a timeout, a crash or an abort since the pool was made. */
  replaced: number;
}

export interface ParseOptions {
  signal?: AbortSignal;
  /** The webhook's attachment policy; absent: every attachment inline. */
  attachments?: AttachmentPlacement | undefined;
  /** Answer with the route facts (routes that depend on the message); the thread skips them otherwise. */
  facts?: boolean | undefined;
}

export interface ParseResult {
  /** The payload v1 JSON, serialized in the thread and transferred. */
  body: Buffer;
  summary: PayloadSummary;
  /** Present when attachments went by reference: the JSON holds placeholders for them. */
  references?: ReferencedParts;
  /** What routes look at (src/routing/match.ts), when asked for. */
  facts?: RouteFacts;
}

export type SpoolAnswer = Omit<SpoolResult, 'sha256' | 'facts'> & Pick<ParseResult, 'references' | 'facts'>;

const referencesOf = (answer: ParseAnswer) => (answer.references ? { references: answer.references } : {});

interface Job {
  /** Its number in its thread, once handed over; answers come back in that order. */
  seq: number;
  raw: Uint8Array;
  meta: PayloadMeta;
  spoolPath?: string;
  attachments?: AttachmentPlacement | undefined;
  facts?: boolean | undefined;
  resolve(answer: ParseAnswer): void;
  /** Settles once; later calls (a timeout racing a reply, the answer to an aborted parse) are ignored. */
  reject(error: unknown): void;
  settled(): boolean;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** Settles when the thread said ready, or failed before that. */
  started: Promise<void>;
  markStarted(error?: Error): void;
  /** Handed to the thread, in order: the first is being parsed, under `timer`. */
  jobs: Job[];
  seq: number;
  timer: NodeJS.Timeout | null;
}

/**
 * A young generation of two 1 MB semi-spaces (and room for large objects): half the main thread's (the bin's
 * first line), whose deliveries in flight live longer than a parse.
 */
const THREAD_YOUNG_GENERATION_MB = 3;

/**
 * Parses handed to one thread at a time: it goes on to the next without a round trip through the main
 * thread's event loop (and sleeps and wakes less). Four, the default delivery concurrency: about 6% less CPU
 * per message end to end than one at a time (docs/performance.md).
 */
export const PIPELINE_DEPTH = 4;

// Bundled (dist/, beside this code's bundle), the thread runs parse-thread-main.cjs, which runs the
// parse-thread.cjs bundle through its code cache (src/boot/code-cache.ts); from the
// TypeScript sources it starts from a plain module that registers tsx first (thread-entry.mjs says why).
const THREAD_ENTRY = COMPILED
  ? new URL('./parse-thread-main.cjs', import.meta.url)
  : new URL('./thread-entry.mjs', import.meta.url);

export class ParserPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private closing: Promise<void> | null = null;
  private replaced = 0;

  constructor(private readonly options: ParserPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1)
      throw new RangeError('size must be an integer >= 1');
  }

  async parse(raw: Buffer, meta: PayloadMeta, opts: ParseOptions = {}): Promise<ParseResult> {
    const answer = await this.submit(
      { raw, meta, attachments: opts.attachments, facts: opts.facts },
      opts.signal,
    );
    if (answer.type !== 'done') throw new Error('a parse was answered with a spool');
    const body = Buffer.from(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength);
    return { body, summary: answer.summary, facts: answer.facts, ...referencesOf(answer) };
  }

  /**
   * Parses `raw` (a view of a SharedArrayBuffer: the thread reads it in place) and writes the payload
   * JSON into `path`, a file that must not exist yet; the caller removes it.
   */
  async spool(
    raw: Uint8Array,
    meta: PayloadMeta,
    path: string,
    opts: ParseOptions = {},
  ): Promise<SpoolAnswer> {
    if (!(raw.buffer instanceof SharedArrayBuffer)) throw new TypeError('spool takes shared memory');
    const answer = await this.submit(
      { raw, meta, spoolPath: path, attachments: opts.attachments, facts: opts.facts },
      opts.signal,
    );
    if (answer.type !== 'spooled') throw new Error('a spool was answered with a body');
    return { bytes: answer.bytes, summary: answer.summary, facts: answer.facts, ...referencesOf(answer) };
  }

  private submit(
    request: Pick<Job, 'raw' | 'meta' | 'spoolPath' | 'attachments' | 'facts'>,
    signal: AbortSignal | undefined,
  ): Promise<ParseAnswer> {
    if (this.closing !== null) return Promise.reject(closedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<ParseAnswer>((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const job: Job = {
        ...request,
        seq: 0,
        resolve: (answer) => settle(() => resolve(answer)),
        reject: (error) => settle(() => reject(error)),
        settled: () => settled,
      };
      const onAbort = () => this.abort(job, signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  /**
   * Starts every thread now instead of on first need, so the first parses don't wait for thread start-up
   * (about a second of CPU each, mostly loading mailparser). Resolves once all are ready.
   */
  start(): Promise<void> {
    if (this.closing !== null) return Promise.resolve();
    for (let i = this.slots.size; i < this.options.size; i++) this.spawn();
    return Promise.all([...this.slots].map((slot) => slot.started)).then(() => undefined);
  }

  stats(): ParserPoolStats {
    let busy = 0;
    let queued = this.queue.length;
    for (const slot of this.slots) {
      if (slot.jobs.length > 0) busy++;
      queued += Math.max(0, slot.jobs.length - 1);
    }
    return { threads: this.slots.size, busy, queued, replaced: this.replaced };
  }

  /** Idempotent: rejects every pending parse with PAYLOAD_POOL_CLOSED and terminates the threads. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    for (const job of this.queue.splice(0)) job.reject(closedError());
    const exits = [...this.slots].map((slot) => {
      for (const job of slot.jobs) job.reject(closedError());
      return this.discard(slot);
    });
    await Promise.all(exits);
  }

  /**
   * Hands queued jobs to idle threads, starts threads, up to `size`, for what is still waiting, and then
   * (no thread starting, so none would be left without work) fills the threads' pipelines evenly.
   */
  private pump(): void {
    if (this.closing !== null) return;
    const ready = [...this.slots].filter((slot) => slot.ready);
    this.fill(ready, 1);
    const starting = this.slots.size - ready.length;
    const wanted = Math.min(this.queue.length - starting, this.options.size - this.slots.size);
    for (let i = 0; i < wanted; i++) this.spawn();
    if (this.slots.size === ready.length) this.fill(ready, PIPELINE_DEPTH);
  }

  private fill(ready: Slot[], depth: number): void {
    for (let held = 1; held <= depth; held++) {
      for (const slot of ready) {
        const job = slot.jobs.length < held ? this.queue.shift() : undefined;
        if (job !== undefined) this.dispatch(slot, job);
      }
    }
  }

  private spawn(): void {
    const data: ThreadData = {
      limits: this.options.limits,
      payloadOptions: this.options.payloadOptions ?? {},
    };
    const worker = new Worker(THREAD_ENTRY, {
      workerData: data,
      // The parent's node flags are not the thread's business (an inherited --input-type even stops it).
      execArgv: [],
      // A small young generation keeps a big message's parse from growing the heap by tens of MB
      // (bench/README.md; V8 picks up to 48 MB for a busy thread) at no CPU measured on small mail.
      resourceLimits: {
        maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB,
        ...this.options.resourceLimits,
      },
    });
    let markStarted: Slot['markStarted'] = () => {};
    const started = new Promise<void>((resolve, reject) => {
      markStarted = (error) => (error ? reject(error) : resolve());
    });
    started.catch(() => {}); // reported through the parses it fails; start() callers see it too
    const slot: Slot = { worker, ready: false, started, markStarted, jobs: [], seq: 0, timer: null };
    this.slots.add(slot);
    worker.on('message', (message: ThreadMessage) => this.onMessage(slot, message));
    worker.on('error', (error) => this.onCrash(slot, error));
    worker.on('exit', (exitCode) =>
      this.onCrash(slot, new Error(`parse thread exited with code ${exitCode}`)),
    );
  }

  private dispatch(slot: Slot, job: Job): void {
    job.seq = ++slot.seq;
    slot.jobs.push(job);
    if (slot.jobs.length === 1) this.startClock(slot);
    const { meta, spoolPath } = job;
    const asked = {
      ...(job.attachments ? { attachments: job.attachments } : {}),
      ...(job.facts ? { facts: true as const } : {}),
    };
    if (job.raw.buffer instanceof SharedArrayBuffer) {
      const request: ParseRequest = {
        type: 'parse',
        seq: job.seq,
        raw: job.raw,
        meta,
        spoolPath,
        ...asked,
      };
      slot.worker.postMessage(request);
      return;
    }
    // A private copy is transferred: cloning a Buffer view would copy its whole (possibly pooled or larger)
    // ArrayBuffer, and the caller's Buffer must stay usable.
    const raw = new Uint8Array(job.raw.byteLength);
    raw.set(job.raw);
    const request: ParseRequest = { type: 'parse', seq: job.seq, raw, meta, ...asked };
    slot.worker.postMessage(request, [raw.buffer]);
  }

  private onMessage(slot: Slot, message: ThreadMessage): void {
    if (message.type === 'ready') {
      slot.ready = true;
      slot.markStarted();
      // An idle thread must not keep the process alive; a starting one may (a parse waits for it), and
      // dispatch refs a busy one again.
      slot.worker.unref();
      this.pump();
      return;
    }
    const job = slot.jobs[0];
    if (job === undefined || message.seq !== job.seq) return;
    this.stopClock(slot);
    slot.jobs.shift();
    if (slot.jobs.length > 0) this.startClock(slot);
    if (message.type === 'done' || message.type === 'spooled') {
      job.resolve(message);
    } else {
      const { code, details } = message;
      job.reject(new PophookError(code, message.message, { details }));
    }
    this.pump();
  }

  private onTimeout(slot: Slot): void {
    const { timeoutMs } = this.options.limits;
    slot.jobs[0]?.reject(
      new PophookError('PAYLOAD_PARSE_TIMEOUT', `parsing took longer than ${timeoutMs} ms`, {
        details: { timeoutMs },
      }),
    );
    this.replace(slot);
  }

  private abort(job: Job, reason: unknown): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) this.queue.splice(queued, 1);
    job.reject(reason);
    // A thread cannot be told to stop a parse; the only way to free it is to end it. A job still waiting
    // in a thread stays there, settled: its answer is dropped, and the parses around it go on.
    const slot = [...this.slots].find((candidate) => candidate.jobs[0] === job);
    if (slot !== undefined) this.replace(slot);
  }

  /** A thread that died: its job fails (an out-of-memory thread lands here), and the pool carries on. */
  private onCrash(slot: Slot, error: Error): void {
    if (!this.slots.has(slot)) return;
    slot.jobs[0]?.reject(
      new PophookError('PAYLOAD_PARSE_FAILED', 'the parse thread crashed', {
        cause: error,
        // ERR_WORKER_OUT_OF_MEMORY when resourceLimits ended it
        details: { cause: `${error.name}: ${error.message}`, errorCode: (error as { code?: unknown }).code },
      }),
    );
    if (slot.ready) {
      this.replace(slot);
      return;
    }
    // The thread could not even start (a broken install): failing the queue beats respawning forever.
    slot.markStarted(error);
    void this.discard(slot);
    for (const job of this.queue.splice(0)) {
      job.reject(
        new PophookError('PAYLOAD_THREAD_START_FAILED', 'no parse thread could start', { cause: error }),
      );
    }
  }

  /**
   * Ends a thread that is stuck, crashed or aborted, and starts a fresh one in its place; the parses that
   * waited behind the one at fault go back to the front of the queue, in their order.
   */
  private replace(slot: Slot): void {
    this.replaced++;
    const behind = slot.jobs.slice(1).filter((job) => !job.settled());
    this.queue.unshift(...behind);
    void this.discard(slot);
    if (this.closing !== null) return;
    this.spawn();
    this.pump();
  }

  private async discard(slot: Slot): Promise<void> {
    this.stopClock(slot);
    slot.jobs = [];
    this.slots.delete(slot);
    await slot.worker.terminate();
  }

  /** The first job in the thread has its budget from now; a busy thread keeps the process alive. */
  private startClock(slot: Slot): void {
    slot.timer = setTimeout(() => this.onTimeout(slot), this.options.limits.timeoutMs);
    slot.worker.ref();
  }

  /** An idle thread must not keep the process alive. */
  private stopClock(slot: Slot): void {
    if (slot.timer !== null) clearTimeout(slot.timer);
    slot.timer = null;
    slot.worker.unref();
  }
}

function closedError(): PophookError {
  return new PophookError('PAYLOAD_POOL_CLOSED', 'the parser pool is closed');
}
