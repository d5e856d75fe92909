// An S3-compatible store for integration tests: s3rver on 127.0.0.1 with its own directory and one bucket,
// and the check a receiver makes of a payload's references: download each through its pre-signed URL and
// compare size and sha256.
//
//   const s3 = await startS3Server();     // s3.storage: a StorageConfig for it; s3.section: the same as YAML
//   s3.created();                         // objects written so far (PUT or completed multipart upload)
//   await s3.halt(); await s3.resume();   // an outage: connections refused, then back on the same port
//   await s3.stop();
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import type { StorageConfig } from '../../src/config/index.ts';
import type { PayloadV1 } from '../../src/payload/index.ts';
import { freePort } from './ports.ts';

export interface S3Server {
  readonly endpoint: string;
  readonly storage: StorageConfig;
  /** The config file's `storage:` section for this store. */
  readonly section: Record<string, unknown>;
  /** Objects created since start (s3rver's ObjectCreated events). */
  created(): number;
  halt(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export async function startS3Server(options: { bucket?: string; prefix?: string } = {}): Promise<S3Server> {
  const bucket = options.bucket ?? 'pophook-test';
  const directory = await mkdtemp(join(tmpdir(), 'pophook-s3-'));
  const port = await freePort();
  let created = 0;
  let server: S3rver | null = null;
  const start = async () => {
    const next = new S3rver({
      port,
      address: '127.0.0.1',
      silent: true,
      directory,
      configureBuckets: [{ name: bucket }],
    });
    next.on('event', (event: { Records?: Array<{ eventName?: string }> }) => {
      if (event.Records?.some((r) => r.eventName?.startsWith('ObjectCreated'))) created++;
    });
    await next.run();
    server = next;
  };
  // An outage drops the open connections too: close() alone waits for them, and a client that keeps its
  // keep-alive connections busy would go on being served by the closed store.
  const halt = async () => {
    const running = server;
    server = null;
    if (!running) return;
    const closed = running.close();
    running.httpServer?.closeAllConnections();
    await closed;
  };
  await start();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    storage: {
      endpoint,
      region: 'us-east-1',
      bucket,
      prefix: options.prefix ?? 'pophook/',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      forcePathStyle: true,
      urlExpiryMs: 3_600_000,
    },
    section: {
      endpoint,
      bucket,
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
      urlExpiry: '1h',
    },
    created: () => created,
    halt,
    resume: start,
    async stop() {
      await halt();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * What is wrong with a payload's referenced attachments, as a receiver finds out: each one downloaded
 * through its URL, its size and sha256 compared with the payload's. Empty when all are intact; a store that
 * cannot be reached is `unreachable` (the download, not the payload, failed).
 */
export async function referenceProblems(payload: PayloadV1): Promise<string[]> {
  const problems: string[] = [];
  for (const attachment of payload.attachments) {
    if (!attachment.reference) continue;
    const response = await fetch(attachment.reference.url).catch(() => null);
    if (response === null) {
      problems.push('unreachable');
      continue;
    }
    const bytes = Buffer.from(await response.arrayBuffer());
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (response.status !== 200) problems.push(`${attachment.reference.key}: HTTP ${response.status}`);
    else if (bytes.length !== attachment.size || digest !== attachment.sha256) {
      problems.push(`${attachment.reference.key}: ${bytes.length} bytes, sha256 ${digest}`);
    }
  }
  return problems;
}
