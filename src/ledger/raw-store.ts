// Raw messages in Redis, one string per UIDL, written and read in chunks so a 50 MB message is never one
// Buffer in our memory nor one Redis reply.
//
// Write: bytes are gathered into `chunkBytes` pieces. A message of one piece (most mail) is SET with its
// PX ttl under its key at once, atomic by itself. A longer one is SET piece by piece under a temp key, the
// rest appended by a script that checks the offset (scripts.ts rawAppendAt), up to `maxInFlightBytes` in
// flight before we wait (backpressure on the source stream). At the end a script checks the length and
// RENAMEs the temp key to the real one (same hash tag, same slot), so a reader never sees half a message.
// Any failure, abort included, deletes the temp key.
// Read: STRLEN first, then GETRANGE per chunk with one chunk prefetched. A chunk shorter than expected
// means the key vanished or changed under us (delivered and deleted, expired): RAW_MISSING, never a
// silently truncated message. (A rewrite of the same UIDL during a read is not detected: the poll session
// only rewrites a raw that is missing.) readBuffer, for a message the caller holds whole anyway, is one
// GET; readBuffers, several of one mailbox, one MGET (their keys share the mailbox's hash tag, so a cluster
// serves it from one node).
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { isPophookError, PophookError } from '../errors.ts';
import { mailboxKeys } from './keys.ts';
import { type RedisClient, type RunScript, scriptRunner } from './scripts.ts';

export interface RawStoreOptions {
  /** Bytes per SET/APPEND/GETRANGE. Default 1 MiB. */
  chunkBytes?: number;
  /** Bytes sent to Redis and not yet acknowledged before the writer waits. Default 4 chunks. */
  maxInFlightBytes?: number;
}

/** What delivery reads of the raw store: whole small messages, or a big one chunk by chunk. */
export type RawReader = Pick<RawStore, 'readBuffer' | 'readBuffers' | 'read' | 'size'>;

export interface RawWriteResult {
  size: number;
}

export class RawStore {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #run: RunScript;
  readonly #chunkBytes: number;
  readonly #maxInFlightBytes: number;

  constructor(redis: RedisClient, prefix: string, options: RawStoreOptions = {}) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#run = scriptRunner(redis);
    this.#chunkBytes = options.chunkBytes ?? 1024 * 1024;
    this.#maxInFlightBytes = options.maxInFlightBytes ?? 4 * this.#chunkBytes;
  }

  async write(
    mailbox: string,
    uidl: string,
    body: AsyncIterable<Buffer> | Iterable<Buffer> | Readable,
    options: { ttlMs: number; signal?: AbortSignal },
  ): Promise<RawWriteResult> {
    const keys = mailboxKeys(this.#prefix, mailbox);
    // Made at a second chunk: a message of one chunk needs no temp key (nor its random name).
    let sender: ChunkSender | undefined;
    try {
      // One chunk is held back: a message that fits in one (most mail) is one SET of the real key, atomic
      // by itself, with no temp key to commit.
      let held: Buffer = Buffer.alloc(0); // an empty message is a key too
      for await (const chunk of rechunk(body, this.#chunkBytes, options.signal)) {
        if (held.length > 0) {
          if (sender === undefined) {
            const temp = keys.rawTemp(uidl, randomBytes(8).toString('hex'));
            sender = new ChunkSender(this.#redis, this.#run, temp, options.ttlMs, this.#maxInFlightBytes);
          }
          await sender.send(held);
        }
        held = chunk;
      }
      options.signal?.throwIfAborted();
      if (sender === undefined) {
        await this.#redis.set(keys.raw(uidl), held, 'PX', options.ttlMs);
        return { size: held.length };
      }
      await sender.send(held);
      await sender.drain();
      options.signal?.throwIfAborted();
      await this.#run('rawCommit', [sender.key, keys.raw(uidl)], [sender.size, options.ttlMs]);
      return { size: sender.size };
    } catch (error) {
      if (sender !== undefined) {
        await sender.drain().catch(() => undefined); // the first failure is the one reported
        await this.#redis.del(sender.key).catch(() => undefined); // best effort: the temp key also has a TTL
      }
      throw mapRawError(error, mailbox, uidl);
    }
  }

  async *read(mailbox: string, uidl: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<Buffer> {
    const key = mailboxKeys(this.#prefix, mailbox).raw(uidl);
    const size = await this.size(mailbox, uidl);
    if (size === null) throw rawMissing(mailbox, uidl);
    const fetch = async (start: number): Promise<Buffer> => {
      const end = Math.min(start + this.#chunkBytes, size) - 1;
      const chunk = await this.#redis.getrangeBuffer(key, start, end);
      if (chunk.length !== end - start + 1) throw rawMissing(mailbox, uidl);
      return chunk;
    };
    let next = size > 0 ? fetch(0) : undefined;
    for (let start = 0; next !== undefined; start += this.#chunkBytes) {
      const current = next;
      next = start + this.#chunkBytes < size ? fetch(start + this.#chunkBytes) : undefined;
      next?.catch(() => undefined); // awaited on the next turn; don't let an early exit leave it unhandled
      options.signal?.throwIfAborted();
      yield await current;
    }
  }

  /** The whole message in one reply: for sizes the caller keeps in memory anyway (one round trip). */
  async readBuffer(mailbox: string, uidl: string): Promise<Buffer> {
    const raw = await this.#redis.getBuffer(mailboxKeys(this.#prefix, mailbox).raw(uidl));
    if (raw === null) throw rawMissing(mailbox, uidl);
    return raw;
  }

  /** Several whole messages of one mailbox in one reply, in order; null where one is absent. */
  async readBuffers(mailbox: string, uidls: readonly string[]): Promise<Array<Buffer | null>> {
    const keys = mailboxKeys(this.#prefix, mailbox);
    return this.#redis.mgetBuffer(uidls.map((uidl) => keys.raw(uidl)));
  }

  /** Up to the first `bytes` of a message (its headers, for a person); empty when absent. */
  async head(mailbox: string, uidl: string, bytes: number): Promise<Buffer> {
    return this.#redis.getrangeBuffer(mailboxKeys(this.#prefix, mailbox).raw(uidl), 0, bytes - 1);
  }

  async exists(mailbox: string, uidl: string): Promise<boolean> {
    return (await this.#redis.exists(mailboxKeys(this.#prefix, mailbox).raw(uidl))) === 1;
  }

  /** Bytes stored, or null when absent (an empty message is 0). */
  async size(mailbox: string, uidl: string): Promise<number | null> {
    const reply = Number(await this.#run('rawSize', [mailboxKeys(this.#prefix, mailbox).raw(uidl)], []));
    return reply < 0 ? null : reply;
  }

  async remove(mailbox: string, uidl: string): Promise<void> {
    await this.#redis.del(mailboxKeys(this.#prefix, mailbox).raw(uidl));
  }

  /** Drops the TTL (a dead letter keeps its bytes). */
  async persist(mailbox: string, uidl: string): Promise<void> {
    await this.#redis.persist(mailboxKeys(this.#prefix, mailbox).raw(uidl));
  }
}

/** Regroups any stream of Buffers into `chunkBytes` pieces (the last one shorter), copying each byte once. */
async function* rechunk(
  body: AsyncIterable<Buffer> | Iterable<Buffer> | Readable,
  chunkBytes: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<Buffer> {
  signal?.throwIfAborted();
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const piece of body) {
    signal?.throwIfAborted();
    pending.push(piece);
    pendingBytes += piece.length;
    if (pendingBytes < chunkBytes) continue;
    const joined = Buffer.concat(pending, pendingBytes);
    let offset = 0;
    for (; joined.length - offset >= chunkBytes; offset += chunkBytes) {
      yield joined.subarray(offset, offset + chunkBytes);
    }
    pending = offset < joined.length ? [joined.subarray(offset)] : [];
    pendingBytes = joined.length - offset;
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

/** Sends chunks in order without waiting for each reply, but never more than `maxInFlight` bytes unanswered. */
class ChunkSender {
  size = 0;
  #inFlight: Array<{ reply: Promise<unknown>; bytes: number }> = [];
  #inFlightBytes = 0;
  #failure: { error: unknown } | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly run: RunScript,
    readonly key: string,
    private readonly ttlMs: number,
    private readonly maxInFlight: number,
  ) {}

  async send(chunk: Buffer): Promise<void> {
    const reply =
      this.size === 0
        ? this.redis.set(this.key, chunk, 'PX', this.ttlMs)
        : this.run('rawAppendAt', [this.key], [this.size, chunk]);
    reply.catch((error: unknown) => {
      this.#failure ??= { error };
    });
    this.size += chunk.length;
    this.#inFlight.push({ reply, bytes: chunk.length });
    this.#inFlightBytes += chunk.length;
    while (this.#inFlightBytes > this.maxInFlight) await this.#settleOldest();
    this.#throwIfFailed();
  }

  async drain(): Promise<void> {
    while (this.#inFlight.length > 0) await this.#settleOldest();
    this.#throwIfFailed();
  }

  async #settleOldest(): Promise<void> {
    const oldest = this.#inFlight.shift()!;
    this.#inFlightBytes -= oldest.bytes;
    await oldest.reply.catch(() => undefined);
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure.error;
  }
}

function mapRawError(error: unknown, mailbox: string, uidl: string): unknown {
  if (isPophookError(error)) return error;
  if (error instanceof Error && error.message.includes('RAW_MISSING')) {
    return new PophookError('RAW_MISSING', 'the raw message changed or expired while being written', {
      cause: error,
      details: { mailbox, uidl },
    });
  }
  return error;
}

export function rawMissing(mailbox: string, uidl: string): PophookError {
  return new PophookError('RAW_MISSING', 'the raw message is not in Redis', {
    details: { mailbox, uidl },
  });
}
