// A BullMQ worker (or a small set of them) that the watchdog can restart: BullMQ workers have been seen
// to stop consuming after a Redis reconnect while isRunning() stays true (DESIGN.md "Known traps"), and a
// closed Worker cannot be started again, so recovery means closing it and making a fresh one from the
// same factory. Tracks the last time a worker of this process took or finished a job ("progress").
import type { Worker } from 'bullmq';
import type { StoppablePart } from '../runtime/shutdown.ts';
import { type Logger, silentLogger } from '../telemetry/logger.ts';

export interface WorkerHandle {
  readonly workers: readonly Worker[];
  close(force: boolean): Promise<void>;
}

interface Started {
  handle: WorkerHandle;
  /** Settles once every connection of its workers finished initialising (or failed to). */
  ready: Promise<void>;
}

/** A wedged worker may never finish closing: give up waiting after this long and start a fresh one. */
const CLOSE_WAIT_MS = 10_000;

export class SupervisedWorker implements StoppablePart {
  #current: Started;
  #lastProgressAt: number;
  #restarts = 0;
  #closed = false;
  #forced = false;
  #closing: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly create: () => WorkerHandle,
    private readonly options: { now?: () => number; logger?: Logger } = {},
  ) {
    this.#lastProgressAt = this.#now();
    this.#current = this.#start();
  }

  get lastProgressAt(): number {
    return this.#lastProgressAt;
  }

  /** Work done inside a job (a delivery of a batch) counts as progress too. */
  noteProgress(): void {
    this.#lastProgressAt = this.#now();
  }

  get restarts(): number {
    return this.#restarts;
  }

  get workers(): readonly Worker[] {
    return this.#current.handle.workers;
  }

  /** Resolves once the current workers' connections are initialised: then they take work. */
  ready(): Promise<void> {
    return this.#current.ready;
  }

  isRunning(): boolean {
    return !this.#closed && this.#current.handle.workers.every((w) => w.isRunning());
  }

  /** Force-closes the current workers (their active jobs stall and are retried) and starts fresh ones. */
  async restart(): Promise<void> {
    if (this.#closed) return;
    const old = this.#current;
    this.#restarts += 1;
    const logger = this.options.logger ?? silentLogger;
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), CLOSE_WAIT_MS);
    });
    const closing = this.#closeWhenReady(old, true).then(
      () => 'closed' as const,
      (error: unknown) => {
        logger.warn({ worker: this.name, err: (error as Error).message }, 'closing a stuck worker failed');
        return 'failed' as const;
      },
    );
    const how = await Promise.race([closing, gaveUp]).finally(() => clearTimeout(timer));
    if (how === 'timeout')
      logger.warn({ worker: this.name }, 'stuck worker did not close; starting anew anyway');
    if (this.#closed) return;
    this.#current = this.#start();
    logger.info({ worker: this.name, restarts: this.#restarts }, 'worker restarted');
  }

  /**
   * Stops taking jobs and waits for those in flight; once, however often it is called. After force() it
   * closes forced: a graceful close waits for Redis, which may be down.
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= this.#closeWhenReady(this.#current, this.#forced);
    return this.#closing;
  }

  /** Aborts the jobs in flight (their signals fire: a POP3 session ends without QUIT, a POST is cut). */
  force(): void {
    this.#closed = true;
    this.#forced = true;
    for (const worker of this.#current.handle.workers) worker.cancelAllJobs('shutdown');
  }

  #start(): Started {
    const handle = this.create();
    const progress = () => {
      this.#lastProgressAt = this.#now();
    };
    for (const worker of handle.workers) {
      worker.on('active', progress);
      worker.on('completed', progress);
      worker.on('failed', progress);
    }
    const ready = Promise.all(handle.workers.map((w) => w.waitUntilReady())).then(
      () => {},
      () => {},
    );
    return { handle, ready };
  }

  /**
   * BullMQ's connection of a worker closed while it still initialises removes its listeners, then emits
   * its failed init as an 'error' nobody can hear (an uncaught "Connection is closed" after shutdown): so
   * a close waits for the init first, up to CLOSE_WAIT_MS (a Redis that never answers).
   */
  async #closeWhenReady(started: Started, force: boolean): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_WAIT_MS);
    });
    await Promise.race([started.ready, late]).finally(() => clearTimeout(timer));
    await started.handle.close(force);
  }

  #now(): number {
    return (this.options.now ?? Date.now)();
  }
}
