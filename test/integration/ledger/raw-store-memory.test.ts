// A 50 MB message through the raw store: peak RSS growth stays a small multiple of one chunk window, far
// below the body size (loose bound: < 3× body, as the memory use of the whole process is noisy). Prints
// MB/s for the report; speed is not asserted.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RawStore } from '../../../src/ledger/raw-store.ts';
import { uniquePrefix, useRedis } from './redis-fixture.ts';

const fx = useRedis();
const BODY = 50 * 1024 * 1024;
const PIECE = 64 * 1024;

describe('a 50 MB message', () => {
  it('is written and read back in chunks, with bounded memory', async () => {
    const store = new RawStore(fx.redis, uniquePrefix());
    const block = randomBytes(PIECE);
    const source = createHash('sha256');
    async function* body(): AsyncGenerator<Buffer> {
      for (let sent = 0, i = 0; sent < BODY; sent += PIECE, i += 1) {
        const piece = Buffer.from(block);
        piece.writeUInt32BE(i, 0); // no two pieces alike
        source.update(piece);
        yield piece;
      }
    }
    global.gc?.();
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    try {
      const writeStart = performance.now();
      const written = await store.write('big', 'u1', body(), { ttlMs: 120_000 });
      const writeMs = performance.now() - writeStart;
      expect(written.size).toBe(BODY);

      const readStart = performance.now();
      const readBack = createHash('sha256');
      let size = 0;
      for await (const chunk of store.read('big', 'u1')) {
        readBack.update(chunk);
        size += chunk.length;
        peak = Math.max(peak, process.memoryUsage().rss);
      }
      const readMs = performance.now() - readStart;
      expect(size).toBe(BODY);
      expect(readBack.digest('hex')).toBe(source.digest('hex'));

      const mb = BODY / 1024 / 1024;
      const growth = (peak - base) / 1024 / 1024;
      console.info(
        `raw store 50 MB: write ${(mb / (writeMs / 1000)).toFixed(0)} MB/s, ` +
          `read ${(mb / (readMs / 1000)).toFixed(0)} MB/s, peak RSS growth ${growth.toFixed(1)} MB`,
      );
      expect(peak - base).toBeLessThan(3 * BODY);
    } finally {
      clearInterval(sampler);
      await store.remove('big', 'u1');
    }
  });
});
