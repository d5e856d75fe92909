// The raw store against a real Redis: exact binary round trips across chunk edges, TTL and persist,
// RAW_MISSING, and no key left behind by a failed, aborted or disturbed write.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isPophookError } from '../../../src/errors.ts';
import { mailboxKeys } from '../../../src/ledger/keys.ts';
import { RawStore } from '../../../src/ledger/raw-store.ts';
import { uniquePrefix, useRedis } from './redis-fixture.ts';

const fx = useRedis();
const MB = 'inbox';
const CHUNK = 64 * 1024;

function setup(chunkBytes = CHUNK) {
  const prefix = uniquePrefix();
  return { prefix, store: new RawStore(fx.redis, prefix, { chunkBytes }), keys: mailboxKeys(prefix, MB) };
}

/** Random bytes with \0 and CRLF planted right at and around every chunk edge. */
function hostileBody(size: number): Buffer {
  const body = randomBytes(size);
  for (let edge = CHUNK; edge - 2 < size; edge += CHUNK) {
    for (const [at, byte] of [
      [edge - 2, 0x0d],
      [edge - 1, 0x0a],
      [edge, 0x00],
      [edge + 1, 0x0d],
    ] as const) {
      if (at >= 0 && at < size) body[at] = byte;
    }
  }
  return body;
}

/** Yields `body` in pieces of varying, odd sizes, so pieces straddle chunk edges. */
async function* pieces(body: Buffer, step = 7777): AsyncGenerator<Buffer> {
  for (let at = 0, i = 0; at < body.length; i += 1) {
    const len = (step * (i + 1)) % 50_000 || 1;
    yield body.subarray(at, at + len);
    at += len;
  }
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return isPophookError(error) ? error.code : 'not-a-pophook-error';
  }
  return undefined;
}

async function keysOf(prefix: string): Promise<string[]> {
  return fx.redis.keys(`${prefix}:*`);
}

describe('write and read', () => {
  for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * 1024 * 1024]) {
    it(`round-trips ${size} bytes exactly, with its size`, async () => {
      const { store } = setup();
      const body = hostileBody(size);
      const result = await store.write(MB, 'u1', pieces(body), { ttlMs: 60_000 });
      expect(result.size).toBe(size);
      expect((await store.readBuffer(MB, 'u1')).equals(body)).toBe(true);
      const chunks: Buffer[] = [];
      for await (const chunk of store.read(MB, 'u1')) chunks.push(chunk);
      expect(chunks.every((c) => c.length <= CHUNK)).toBe(true);
      expect(await store.size(MB, 'u1')).toBe(size);
      expect(await store.exists(MB, 'u1')).toBe(true);
    });
  }

  it('accepts a node Readable and a UIDL with braces, colons and spaces', async () => {
    const { store, keys, prefix } = setup();
    const uidl = '{x}: a b';
    const body = hostileBody(3 * CHUNK + 5);
    await store.write(MB, uidl, Readable.from(pieces(body)), { ttlMs: 60_000 });
    expect((await store.readBuffer(MB, uidl)).equals(body)).toBe(true);
    expect(await keysOf(prefix)).toEqual([keys.raw(uidl)]);
  });

  it('sets the TTL on the published key, and persist removes it', async () => {
    const { store, keys } = setup();
    await store.write(MB, 'u1', pieces(hostileBody(10)), { ttlMs: 50_000 });
    const ttl = await fx.redis.pttl(keys.raw('u1'));
    expect(ttl).toBeGreaterThan(40_000);
    expect(ttl).toBeLessThanOrEqual(50_000);
    await store.persist(MB, 'u1');
    expect(await fx.redis.pttl(keys.raw('u1'))).toBe(-1);
  });

  it('stores a message of one chunk with one SET, a longer one through a temp key, both with the TTL', async () => {
    const renames = async () => {
      const stats = await fx.redis.info('commandstats');
      return Number(/cmdstat_rename:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    };
    const { store, keys } = setup();
    const before = await renames();
    await store.write(MB, 'one', pieces(hostileBody(CHUNK)), { ttlMs: 50_000 });
    expect(await renames()).toBe(before);
    await store.write(MB, 'two', pieces(hostileBody(CHUNK + 1)), { ttlMs: 50_000 });
    expect(await renames()).toBe(before + 1);
    for (const uidl of ['one', 'two']) {
      expect(await fx.redis.pttl(keys.raw(uidl))).toBeGreaterThan(40_000);
    }
  });

  it('remove deletes; reading an absent message is RAW_MISSING; size is null', async () => {
    const { store } = setup();
    await store.write(MB, 'u1', pieces(Buffer.from('x')), { ttlMs: 60_000 });
    await store.remove(MB, 'u1');
    expect(await store.exists(MB, 'u1')).toBe(false);
    expect(await store.size(MB, 'u1')).toBeNull();
    expect(await codeOf(store.readBuffer(MB, 'u1'))).toBe('RAW_MISSING');
  });

  it('readBuffers reads several messages of a mailbox in one reply, in order, null for an absent one', async () => {
    const { store } = setup();
    const a = randomBytes(100);
    const b = Buffer.from('\r\n.\r\n\0');
    await store.write(MB, 'a', [a], { ttlMs: 60_000 });
    await store.write(MB, 'b {2}', [b], { ttlMs: 60_000 });
    const got = await store.readBuffers(MB, ['b {2}', 'gone', 'a']);
    expect(got.map((raw) => raw?.toString('hex') ?? null)).toEqual([
      b.toString('hex'),
      null,
      a.toString('hex'),
    ]);
  });

  it('reports RAW_MISSING, never a truncated message, when the key vanishes mid-read', async () => {
    const { store } = setup();
    await store.write(MB, 'u1', pieces(hostileBody(4 * CHUNK)), { ttlMs: 60_000 });
    const read = async () => {
      for await (const _ of store.read(MB, 'u1')) await store.remove(MB, 'u1');
    };
    expect(await codeOf(read())).toBe('RAW_MISSING');
  });
});

describe('failures leave no key behind', () => {
  it('a stream error mid-way', async () => {
    const { store, prefix } = setup();
    async function* failing(): AsyncGenerator<Buffer> {
      yield randomBytes(3 * CHUNK);
      throw new Error('socket closed');
    }
    await expect(store.write(MB, 'u1', failing(), { ttlMs: 60_000 })).rejects.toThrow('socket closed');
    expect(await keysOf(prefix)).toEqual([]);
  });

  it('an abort mid-way', async () => {
    const { store, prefix } = setup();
    const controller = new AbortController();
    async function* slow(): AsyncGenerator<Buffer> {
      yield randomBytes(2 * CHUNK);
      controller.abort(new Error('shutdown'));
      yield randomBytes(CHUNK);
    }
    const write = store.write(MB, 'u1', slow(), { ttlMs: 60_000, signal: controller.signal });
    await expect(write).rejects.toThrow('shutdown');
    expect(await keysOf(prefix)).toEqual([]);
  });

  it('the temp key vanishing mid-write (expired, flushed) is RAW_MISSING, not a message with a hole', async () => {
    const { store, prefix } = setup();
    async function* flushing(): AsyncGenerator<Buffer> {
      yield randomBytes(2 * CHUNK);
      await new Promise((resolve) => setTimeout(resolve, 20));
      for (const key of await keysOf(prefix)) await fx.redis.del(key);
      yield randomBytes(2 * CHUNK);
    }
    expect(await codeOf(store.write(MB, 'u1', flushing(), { ttlMs: 60_000 }))).toBe('RAW_MISSING');
    expect(await keysOf(prefix)).toEqual([]);
  });

  it('a rewrite replaces the message whole', async () => {
    const { store } = setup();
    await store.write(MB, 'u1', pieces(hostileBody(3 * CHUNK)), { ttlMs: 60_000 });
    const second = hostileBody(CHUNK + 3);
    await store.write(MB, 'u1', pieces(second), { ttlMs: 60_000 });
    expect((await store.readBuffer(MB, 'u1')).equals(second)).toBe(true);
  });
});
