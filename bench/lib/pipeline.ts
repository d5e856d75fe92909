// What the end-to-end and memory sections share: a pophook.yml for the bench mailbox (plain TCP to the
// private Dovecot, no batch limit in the way), the real `pophook` command as a child, and an enqueue that
// does what a poll session does for one message (raw bytes into Redis, ledger `queued`, deliver job).
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { Ledger, RawStore } from '../../src/ledger/index.ts';
import { createRedis, type Redis, waitReady } from '../../src/queue/connections.ts';
import { PophookQueues, queuedMessage } from '../../src/queue/jobs.ts';
import type { DovecotServer } from '../../test/helpers/dovecot.ts';
import { type PophookProcess, startPophook, writeTestConfig } from '../../test/helpers/pophook-process.ts';
import { BENCH_PASSWORD, BENCH_USER } from '../retrieval.ts';

export const MAILBOX = 'inbox';
export const WEBHOOK = 'receiver';
/** USER_HZ: 100 on every Linux architecture Node runs on (sysconf(_SC_CLK_TCK)). */
const CLOCK_TICKS_PER_SECOND = 100;

export const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

export interface BenchConfig {
  dir: string;
  redisUrl: string;
  prefix: string;
  webhookUrl: string;
  dovecot: DovecotServer;
  concurrency: number;
  /** The webhook's `attachments` section and the `storage` section it needs (default: inline). */
  attachments?: Record<string, unknown>;
  storage?: Record<string, unknown>;
}

export function newPrefix(): string {
  return `bench${randomBytes(4).toString('hex')}`;
}

export function writeBenchConfig(c: BenchConfig): Promise<string> {
  return writeTestConfig({
    dir: c.dir,
    redisUrl: c.redisUrl,
    prefix: c.prefix,
    webhookUrl: c.webhookUrl,
    secret: SECRET,
    pop3: {
      port: c.dovecot.pop3Port,
      caPem: c.dovecot.caPem,
      username: BENCH_USER,
      password: BENCH_PASSWORD,
    },
    mailbox: {
      tls: 'none',
      allowPlaintextAuth: true,
      pollInterval: '60s',
      batchMessages: 100_000,
      batchSize: '2GB',
      maxMessageSize: '200MB',
    },
    webhook: {
      timeout: '60s',
      retryDelay: '200ms',
      retryMaxDelay: '1s',
      ...(c.attachments ? { attachments: c.attachments } : {}),
    },
    delivery: { concurrency: c.concurrency },
    ...(c.storage ? { extra: { storage: c.storage } } : {}),
  });
}

/** How the benchmark starts the process beyond its arguments: node flags after the bin's, more environment. */
export interface ServiceOptions {
  level?: string;
  nodeFlags?: readonly string[];
  env?: NodeJS.ProcessEnv;
}

/** `pophook <args>` (logs at info, as users run it), resolved once it logged that it started. */
export async function startService(
  args: string[],
  { level = 'info', nodeFlags = [], env = {} }: ServiceOptions = {},
): Promise<PophookProcess> {
  const child = startPophook(args, { ...env, LOG_LEVEL: level }, undefined, nodeFlags);
  try {
    await child.waitForLog((line) => line.msg === 'pophook started', 30_000);
  } catch (error) {
    await child.stop('SIGKILL');
    throw error;
  }
  return child;
}

export class Enqueuer {
  readonly redis: Redis;
  readonly raw: RawStore;
  readonly ledger: Ledger;
  readonly queues: PophookQueues;

  private constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.raw = new RawStore(redis, prefix);
    this.ledger = new Ledger(redis, prefix);
    this.queues = new PophookQueues(redis, prefix);
  }

  static async open(url: string, prefix: string): Promise<Enqueuer> {
    const redis = createRedis(url, 'worker');
    await waitReady(redis);
    return new Enqueuer(redis, prefix);
  }

  /** Stores `raw` as message `uidl` of the bench mailbox and enqueues its delivery; returns the webhook-id. */
  async enqueue(uidl: string, raw: Buffer): Promise<string> {
    const stored = await this.raw.write(MAILBOX, uidl, [raw], { ttlMs: 3_600_000 });
    const message = queuedMessage(uidl, MAILBOX, stored.size, Date.now());
    await this.ledger.markQueued(MAILBOX, uidl, { size: stored.size, webhookId: message.webhookId });
    await this.queues.enqueueDelivery({ mailbox: MAILBOX, webhook: WEBHOOK, messages: [message] });
    return message.webhookId;
  }

  async close(): Promise<void> {
    await this.queues.close();
    await this.redis.quit();
  }
}

/** CPU seconds (user + system) of every thread of `pid`, living and ended, from /proc/<pid>/stat. */
export const procCpuSeconds = (pid: number): Promise<number> => statCpuSeconds(`/proc/${pid}/stat`);

async function statCpuSeconds(path: string): Promise<number> {
  const stat = await readFile(path, 'utf8');
  // After the parenthesised command name: state is field 3, utime 14 and stime 15 (proc(5)).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** CPU seconds of the whole machine since boot (/proc/stat, every core): busy (idle and iowait left out), and all. */
export async function machineCpuSeconds(): Promise<{ busy: number; all: number }> {
  const [cpu] = (await readFile('/proc/stat', 'utf8')).split('\n', 1);
  // cpu user nice system idle iowait irq softirq steal (guest time is in user already)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = cpu!.split(/\s+/).slice(1, 9).map(Number);
  const busy = user! + nice! + system! + irq! + softirq! + steal!;
  return { busy: busy / CLOCK_TICKS_PER_SECOND, all: (busy + idle! + iowait!) / CLOCK_TICKS_PER_SECOND };
}

/** CPU seconds of each living thread of `pid` by thread id (/proc/<pid>/task/<tid>/stat). */
export async function procThreadCpuSeconds(pid: number): Promise<Map<number, number>> {
  const threads = new Map<number, number>();
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const seconds = await statCpuSeconds(`/proc/${pid}/task/${tid}/stat`).catch(() => undefined);
    if (seconds !== undefined) threads.set(Number(tid), seconds);
  }
  return threads;
}

/** One field of /proc/<pid>/status in bytes (VmRSS, VmHWM). */
export async function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Resets VmHWM to the current RSS (proc(5), clear_refs value 5; needs root or the same user). */
export async function resetPeakRss(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
}
