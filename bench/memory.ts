// Bench sections: memory. (1) Peak RSS growth of a dedicated `pophook worker --role deliver` process
// delivering one message of a given size (a base64 attachment fills it): the worker is warmed with a small
// message first (its parse thread started), its peak is reset (proc(5) clear_refs 5), and the growth is
// VmHWM after the delivery minus VmRSS before it. Each size gets a fresh process. (2) Redis memory per
// queued message: INFO used_memory before and after N messages stored and enqueued as a poll session does
// (raw bytes, ledger entry, deliver job), no workers running, minus the raw bytes themselves.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PayloadV1 } from '../src/payload/index.ts';
import type { DovecotServer } from '../test/helpers/dovecot.ts';
import { bigMessage, smallCorpus } from '../test/helpers/mail-corpus.ts';
import type { Receiver } from '../test/helpers/receiver.ts';
import {
  Enqueuer,
  newPrefix,
  procStatusBytes,
  resetPeakRss,
  startService,
  writeBenchConfig,
} from './lib/pipeline.ts';

export interface MemoryRow {
  messageBytes: number;
  idleRssBytes: number;
  peakRssBytes: number;
  growthBytes: number;
  /** growth / message size; the target is < 1.5 */
  growthRatio: number;
  deliverSeconds: number;
}

export interface RedisMemoryRow {
  messages: number;
  rawBytes: number;
  usedMemoryDeltaBytes: number;
  /** (delta - raw bytes) / messages: what a queued message costs beyond its own bytes. */
  overheadBytesPerMessage: number;
}

interface Setup {
  dovecot: DovecotServer;
  receiver: Receiver;
  redisUrl: string;
}

export async function benchDeliverMemory(
  s: Setup,
  sizes: number[],
  log: (l: string) => void,
): Promise<MemoryRow[]> {
  const rows: MemoryRow[] = [];
  for (const size of sizes) {
    rows.push(await oneDelivery(s, size));
    log(`  deliver worker, ${(size / 1e6).toFixed(0)} MB message: done`);
  }
  return rows;
}

async function oneDelivery(s: Setup, size: number): Promise<MemoryRow> {
  const dir = await mkdtemp(join(tmpdir(), 'pophook-bench-mem-'));
  const prefix = newPrefix();
  const path = await writeBenchConfig({
    dir,
    redisUrl: s.redisUrl,
    prefix,
    webhookUrl: s.receiver.url,
    dovecot: s.dovecot,
    concurrency: 1,
  });
  const enqueuer = await Enqueuer.open(s.redisUrl, prefix);
  s.receiver.clear();
  await s.receiver.setRespond((request) => (request.verified ? 200 : 401));
  const child = await startService(['worker', '--config', path, '--role', 'deliver']);
  const pid = child.child.pid!;
  try {
    const warm = await enqueuer.enqueue('warm-up', smallCorpus(1, 1)[0]!.raw);
    await s.receiver.waitFor((ds) => ds.some((d) => d.webhookId === warm && d.status === 200), 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // let the warm-up's garbage go
    const message = bigMessage(size, 50);
    await resetPeakRss(pid);
    const idleRssBytes = await procStatusBytes(pid, 'VmRSS');
    const started = performance.now();
    const id = await enqueuer.enqueue('big', message.raw);
    const [delivery] = (await s.receiver.waitFor((ds) => ds.some((d) => d.webhookId === id), 300_000)).filter(
      (d) => d.webhookId === id,
    );
    const deliverSeconds = (performance.now() - started) / 1000;
    const peakRssBytes = await procStatusBytes(pid, 'VmHWM');
    const attachment = (delivery?.json as PayloadV1 | undefined)?.attachments[0];
    const sha =
      attachment &&
      createHash('sha256')
        .update(Buffer.from(attachment.content ?? '', 'base64'))
        .digest('hex');
    if (delivery?.status !== 200 || sha !== message.attachments[0]?.sha256 || attachment?.sha256 !== sha) {
      throw new Error(`the ${size}-byte message was not delivered intact (status ${delivery?.status})`);
    }
    const growthBytes = peakRssBytes - idleRssBytes;
    s.receiver.clear(); // the receiver holds the body; let it go
    return {
      messageBytes: message.raw.length,
      idleRssBytes,
      peakRssBytes,
      growthBytes,
      growthRatio: growthBytes / message.raw.length,
      deliverSeconds,
    };
  } finally {
    await child.stop();
    await enqueuer.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchRedisMemory(redisUrl: string, count: number): Promise<RedisMemoryRow> {
  const enqueuer = await Enqueuer.open(redisUrl, newPrefix());
  try {
    const raws = smallCorpus(count, 99).map((m) => m.raw);
    const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await enqueuer.redis.info('memory'))?.[1]);
    await enqueuer.enqueue('first', raws[0]!); // scripts loaded, queue keys made: not per-message costs
    const before = await usedMemory();
    let rawBytes = 0;
    for (let i = 1; i < raws.length; i++) {
      await enqueuer.enqueue(`m${i}`, raws[i]!);
      rawBytes += raws[i]!.length;
    }
    const delta = (await usedMemory()) - before;
    const messages = raws.length - 1;
    return {
      messages,
      rawBytes,
      usedMemoryDeltaBytes: delta,
      overheadBytesPerMessage: (delta - rawBytes) / messages,
    };
  } finally {
    await enqueuer.close();
  }
}
