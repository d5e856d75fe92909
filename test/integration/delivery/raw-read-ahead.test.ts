// A deliver job's raw messages read a group at a time (src/delivery/raw-read-ahead.ts), against a real
// Redis: what each MGET holds, each message handed out once, the bounds, a message gone, a failed read.
import { describe, expect, it } from 'vitest';
import { STREAM_THRESHOLD_BYTES } from '../../../src/delivery/prepared-payload.ts';
import { RawReadAhead } from '../../../src/delivery/raw-read-ahead.ts';
import { isPophookError } from '../../../src/errors.ts';
import { type RawReader, RawStore } from '../../../src/ledger/index.ts';
import { uniquePrefix, useRedis } from '../ledger/redis-fixture.ts';

const fx = useRedis();
const MB = 'inbox';

/** The real store, with every read it is asked for written down (one entry per round trip). */
function countingStore(store: RawStore): { reader: RawReader; reads: string[][] } {
  const reads: string[][] = [];
  const reader: RawReader = {
    readBuffer: (mailbox, uidl) => {
      reads.push([uidl]);
      return store.readBuffer(mailbox, uidl);
    },
    readBuffers: (mailbox, uidls) => {
      reads.push([...uidls]);
      return store.readBuffers(mailbox, uidls);
    },
    read: (...args) => store.read(...args),
    size: (mailbox, uidl) => store.size(mailbox, uidl),
  };
  return { reader, reads };
}

/** `count` stored messages `m0`, `m1`...; returns them as the job lists them. */
async function stored(store: RawStore, count: number, skip: string[] = []) {
  const messages = Array.from({ length: count }, (_, i) => ({
    uidl: `m${i}`,
    body: Buffer.from(`message ${i}\r\n`),
  }));
  for (const { uidl, body } of messages) {
    if (!skip.includes(uidl)) await store.write(MB, uidl, [body], { ttlMs: 60_000 });
  }
  return messages.map(({ uidl, body }) => ({ uidl, size: body.length, body }));
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (isPophookError(error) ? error.code : String(error)),
  );
}

describe('RawReadAhead', () => {
  it('reads a message and the next ones of the job in one MGET, and hands each out once', async () => {
    const store = new RawStore(fx.redis, uniquePrefix());
    const messages = await stored(store, 5);
    const { reader, reads } = countingStore(store);
    const ahead = new RawReadAhead(reader, MB, messages);
    for (const { uidl, body } of messages) expect((await ahead.readBuffer(MB, uidl)).equals(body)).toBe(true);
    expect(reads).toEqual([['m0', 'm1', 'm2', 'm3', 'm4']]);
    // Handed out already: asked again (a second attempt), it is read on its own.
    expect((await ahead.readBuffer(MB, 'm2')).equals(messages[2]!.body)).toBe(true);
    expect(reads.at(-1)).toEqual(['m2']);
  });

  it('reads ahead from the message asked for, taking only messages not read yet', async () => {
    const store = new RawStore(fx.redis, uniquePrefix());
    const messages = await stored(store, 6);
    const { reader, reads } = countingStore(store);
    const ahead = new RawReadAhead(reader, MB, messages, { messages: 3, bytes: 1024 });
    await Promise.all(['m1', 'm0', 'm4', 'm2', 'm5', 'm3'].map((uidl) => ahead.readBuffer(MB, uidl)));
    expect(reads).toEqual([
      ['m1', 'm2', 'm3'],
      ['m0', 'm4', 'm5'],
    ]);
  });

  it('stops a group at its byte bound and leaves messages for the streamed path out', async () => {
    const store = new RawStore(fx.redis, uniquePrefix());
    const [m0, m1, m2, m3] = await stored(store, 4);
    // As the job lists them: m1 at the streamed path's size (its bytes are read in chunks, not here).
    const job = [m0!, { ...m1!, size: STREAM_THRESHOLD_BYTES }, m2!, { ...m3!, size: 30 }];
    const { reader, reads } = countingStore(store);
    const ahead = new RawReadAhead(reader, MB, job, { messages: 16, bytes: m0!.size + m2!.size + 29 });
    for (const { uidl } of job) await ahead.readBuffer(MB, uidl);
    expect(reads).toEqual([['m0', 'm2'], ['m1'], ['m3']]);
  });

  it('a message gone from Redis is RAW_MISSING alone; the rest of its group is served', async () => {
    const store = new RawStore(fx.redis, uniquePrefix());
    const messages = await stored(store, 3, ['m1']);
    const ahead = new RawReadAhead(store, MB, messages);
    expect(await Promise.all(messages.map(({ uidl }) => codeOf(ahead.readBuffer(MB, uidl))))).toEqual([
      'resolved',
      'RAW_MISSING',
      'resolved',
    ]);
  });

  it('another mailbox, or a message the job does not list, is read on its own', async () => {
    const store = new RawStore(fx.redis, uniquePrefix());
    const messages = await stored(store, 2);
    await store.write('other', 'm0', [Buffer.from('elsewhere')], { ttlMs: 60_000 });
    const { reader, reads } = countingStore(store);
    const ahead = new RawReadAhead(reader, MB, messages.slice(1));
    expect((await ahead.readBuffer('other', 'm0')).toString()).toBe('elsewhere');
    expect((await ahead.readBuffer(MB, 'm0')).equals(messages[0]!.body)).toBe(true);
    expect(reads).toEqual([['m0'], ['m0']]);
  });

  it('a failed group read fails each message asked for, and leaves no unhandled rejection for the others', async () => {
    const broken = new Error('connection lost');
    const store: RawReader = {
      readBuffer: () => Promise.reject(broken),
      readBuffers: () => Promise.reject(broken),
      read: () => {
        throw broken;
      },
      size: () => Promise.reject(broken),
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const ahead = new RawReadAhead(store, MB, [
        { uidl: 'm0', size: 10 },
        { uidl: 'm1', size: 10 },
        { uidl: 'm2', size: 10 },
      ]);
      await expect(ahead.readBuffer(MB, 'm0')).rejects.toBe(broken);
      await expect(ahead.readBuffer(MB, 'm1')).rejects.toBe(broken);
      await new Promise((resolve) => setTimeout(resolve, 20)); // m2 is never asked for
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
