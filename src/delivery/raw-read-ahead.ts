// The raw messages of one deliver job, read from Redis a group at a time: asked for a message's bytes, it
// fetches that message and the next ones of the job nobody asked for yet in one MGET, and hands each
// out once. One GET per message was a write, a wake-up of Redis and a reply to parse each time: a tenth of
// the main thread's CPU and half of Redis's (docs/performance.md). The messages run in the job's order
// (deliver-job.ts), so what is read ahead is asked for within milliseconds; a group stops at
// READ_AHEAD_MESSAGES and READ_AHEAD_BYTES, and holds no message big enough for the streamed path, which
// reads its own bytes in chunks.
// A message read ahead and deleted in Redis before its turn (a second job for a message just delivered)
// is sent again: a repeat, never a loss, as a GET just before that deletion would have done.
import { type RawReader, rawMissing } from '../ledger/index.ts';
import type { DeliverMessage } from '../queue/jobs.ts';
import { STREAM_THRESHOLD_BYTES } from './prepared-payload.ts';

/** Messages per MGET at most. */
export const READ_AHEAD_MESSAGES = 16;
/** Bytes per MGET at most (a message bigger than this alone is read alone). */
export const READ_AHEAD_BYTES = 1024 * 1024;

export interface ReadAheadLimits {
  messages: number;
  bytes: number;
}

interface Slot {
  group: Promise<Array<Buffer | null>>;
  index: number;
}

export class RawReadAhead implements RawReader {
  readonly #store: RawReader;
  readonly #mailbox: string;
  readonly #limits: ReadAheadLimits;
  /** The job's messages the read-ahead may take, in order, each until it is read or asked for. */
  readonly #pending: Array<Pick<DeliverMessage, 'uidl' | 'size'>>;
  readonly #read = new Map<string, Slot>();

  constructor(
    store: RawReader,
    mailbox: string,
    messages: ReadonlyArray<Pick<DeliverMessage, 'uidl' | 'size'>>,
    limits: ReadAheadLimits = { messages: READ_AHEAD_MESSAGES, bytes: READ_AHEAD_BYTES },
  ) {
    this.#store = store;
    this.#mailbox = mailbox;
    this.#limits = limits;
    this.#pending = messages.filter((message) => message.size < STREAM_THRESHOLD_BYTES);
  }

  async readBuffer(mailbox: string, uidl: string): Promise<Buffer> {
    const slot = mailbox === this.#mailbox ? this.#take(uidl) : undefined;
    if (slot === undefined) return this.#store.readBuffer(mailbox, uidl);
    const raw = (await slot.group)[slot.index];
    if (raw === null || raw === undefined) throw rawMissing(mailbox, uidl);
    return raw;
  }

  readBuffers(mailbox: string, uidls: readonly string[]): Promise<Array<Buffer | null>> {
    return this.#store.readBuffers(mailbox, uidls);
  }

  read(...args: Parameters<RawReader['read']>): ReturnType<RawReader['read']> {
    return this.#store.read(...args);
  }

  size(mailbox: string, uidl: string): Promise<number | null> {
    return this.#store.size(mailbox, uidl);
  }

  /** The message's place in a group read (reading one from it when not read yet); undefined: not ours. */
  #take(uidl: string): Slot | undefined {
    const slot = this.#read.get(uidl);
    if (slot !== undefined) {
      this.#read.delete(uidl);
      return slot;
    }
    const at = this.#pending.findIndex((message) => message.uidl === uidl);
    if (at < 0) return undefined;
    let count = 1;
    let bytes = this.#pending[at]!.size;
    for (const next of this.#pending.slice(at + 1, at + this.#limits.messages)) {
      if (bytes + next.size > this.#limits.bytes) break;
      count++;
      bytes += next.size;
    }
    const taken = this.#pending.splice(at, count);
    const group = this.#store.readBuffers(
      this.#mailbox,
      taken.map((message) => message.uidl),
    );
    // A failed read fails each message when it is asked for (the one asking now awaits it at once, so a
    // failure is never unhandled, even when the others are never asked for).
    for (let index = 1; index < taken.length; index++) this.#read.set(taken[index]!.uidl, { group, index });
    return { group, index: 0 };
  }
}
