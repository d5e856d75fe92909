// Bench sections: memory. (1) Peak RSS growth of a dedicated `pophook worker --role deliver` process
// delivering one message of a given size (a base64 attachment fills it): the worker is warmed with a small
// message first (its parse thread started), its peak is reset (proc(5) clear_refs 5), and the growth is
// VmHWM after the delivery minus VmRSS before it. Each size gets a fresh process. A last row sends a
// message with two 20 MiB attachments by reference (attachments.mode: reference, s3rver in this process
// as the store): its peak shows what the upload path holds; the objects are downloaded through their
// pre-signed URLs and checked afterwards. (2) Redis memory per
// queued message: INFO used_memory before and after N messages stored and enqueued as a poll session does
// (raw bytes, ledger entry, deliver job), no workers running, minus the raw bytes themselves.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PayloadV1 } from '../src/payload/index.ts';
import type { DovecotServer } from '../test/helpers/dovecot.ts';
import {
  bigMessage,
  type CorpusMessage,
  messageWithAttachments,
  smallCorpus,
} from '../test/helpers/mail-corpus.ts';
import type { Receiver } from '../test/helpers/receiver.ts';
import { referenceProblems, startS3Server } from '../test/helpers/s3-server.ts';
import {
  Enqueuer,
  newPrefix,
  procStatusBytes,
  resetPeakRss,
  startService,
  writeBenchConfig,
} from './lib/pipeline.ts';

export interface MemoryRow {
  /** Where the attachments went: inline (base64 in the JSON) or by reference (uploaded to S3). */
  attachments: 'inline' | 'reference';
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
  /** Node flags after the bin's (`--node-flags`). */
  nodeFlags: readonly string[];
}

export async function benchDeliverMemory(
  s: Setup,
  sizes: number[],
  log: (l: string) => void,
): Promise<MemoryRow[]> {
  const rows: MemoryRow[] = [];
  for (const size of sizes) {
    rows.push(await oneDelivery(s, bigMessage(size, 50)));
    log(`  deliver worker, ${(size / 1e6).toFixed(0)} MB message: done`);
  }
  const s3 = await startS3Server();
  try {
    const specs = [0, 1].map((i) => ({
      filename: `scan-${i}.pdf`,
      contentType: 'application/pdf',
      size: 20 * MIB,
    }));
    rows.push(await oneDelivery(s, messageWithAttachments(specs, 51), s3.section));
    log('  deliver worker, 2 x 20 MiB attachments by reference: done');
  } finally {
    await s3.stop();
  }
  return rows;
}

const MIB = 1024 * 1024;

/**
 * Delivers `message` through a fresh deliver worker; with `storage` (the config's section), its attachments
 * go by reference.
 */
async function oneDelivery(
  s: Setup,
  message: CorpusMessage,
  storage?: Record<string, unknown>,
): Promise<MemoryRow> {
  const dir = await mkdtemp(join(tmpdir(), 'pophook-bench-mem-'));
  const prefix = newPrefix();
  const path = await writeBenchConfig({
    dir,
    redisUrl: s.redisUrl,
    prefix,
    webhookUrl: s.receiver.url,
    dovecot: s.dovecot,
    concurrency: 1,
    ...(storage && { attachments: { mode: 'reference' }, storage }),
  });
  const enqueuer = await Enqueuer.open(s.redisUrl, prefix);
  s.receiver.clear();
  await s.receiver.setRespond((request) => (request.verified ? 200 : 401));
  const child = await startService(['worker', '--config', path, '--role', 'deliver'], {
    nodeFlags: s.nodeFlags,
  });
  const pid = child.child.pid!;
  try {
    const warm = await enqueuer.enqueue('warm-up', smallCorpus(1, 1)[0]!.raw);
    await s.receiver.waitFor((ds) => ds.some((d) => d.webhookId === warm && d.status === 200), 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // let the warm-up's garbage go
    await resetPeakRss(pid);
    const idleRssBytes = await procStatusBytes(pid, 'VmRSS');
    const started = performance.now();
    const id = await enqueuer.enqueue('big', message.raw);
    const [delivery] = (await s.receiver.waitFor((ds) => ds.some((d) => d.webhookId === id), 300_000)).filter(
      (d) => d.webhookId === id,
    );
    const deliverSeconds = (performance.now() - started) / 1000;
    const peakRssBytes = await procStatusBytes(pid, 'VmHWM');
    const problems =
      delivery?.status === 200 ? await deliveryProblems(delivery.json as PayloadV1, message) : [];
    if (delivery?.status !== 200 || problems.length > 0) {
      throw new Error(
        `the ${message.raw.length}-byte message was not delivered intact (status ${delivery?.status}): ${problems.join(', ')}`,
      );
    }
    const growthBytes = peakRssBytes - idleRssBytes;
    s.receiver.clear(); // the receiver holds the body; let it go
    return {
      attachments: storage ? 'reference' : 'inline',
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

/** Each attachment as the message has it: inline content or, by reference, the object downloaded. */
async function deliveryProblems(payload: PayloadV1, message: CorpusMessage): Promise<string[]> {
  const problems = await referenceProblems(payload);
  message.attachments.forEach((expected, i) => {
    const attachment = payload.attachments[i];
    const content = attachment?.content;
    const sha =
      content === undefined
        ? attachment?.sha256
        : createHash('sha256').update(Buffer.from(content, 'base64')).digest('hex');
    if (sha !== expected.sha256 || attachment?.sha256 !== expected.sha256)
      problems.push(`attachment ${i} differs`);
    if (content === undefined && !attachment?.reference) problems.push(`attachment ${i} has no bytes`);
  });
  return problems;
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
