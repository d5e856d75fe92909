// A poll session queues what it retrieved in windows: every DELIVER_BATCH_MESSAGES stored messages become
// one deliver job, the last window a shorter one, all before QUIT; each ledger entry names its job, so
// reconcile can ask BullMQ about it.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pollOnce } from '../../../src/mailbox/poll-job.ts';
import { DELIVER_BATCH_MESSAGES, type DeliverJobData, deliverJobId } from '../../../src/queue/jobs.ts';
import type { Runtime } from '../../../src/runtime/runtime.ts';
import { type FakePop3Server, startFakePop3Server } from '../../helpers/fake-pop3-server.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';
import { fakeServerRuntime } from './fake-server-runtime.ts';

const COUNT = 2 * DELIVER_BATCH_MESSAGES + 7;

let redis: RedisServer;
let server: FakePop3Server;
let rt: Runtime;

beforeAll(async () => {
  redis = await startRedisServer();
  server = await startFakePop3Server({
    messages: Array.from({ length: COUNT }, (_, i) => ({
      uid: `uid-${i + 1}`,
      body: `Subject: message ${i + 1}\r\n\r\nbody ${i + 1}\r\n`,
    })),
  });
  rt = await fakeServerRuntime(redis.url, server.port, 'windows');
});

afterAll(async () => {
  await rt?.close();
  await server?.stop();
  await redis?.stop();
});

it(`queues ${COUNT} retrieved messages as 3 deliver jobs before QUIT`, async () => {
  await pollOnce(rt, rt.config.mailboxes.inbox!);
  expect(server.transcript.some((line) => /^C\[\d+\]: QUIT/.test(line))).toBe(true);

  const jobs = await rt.queues.deliverQueueFor('inbox').getJobs(['waiting'], 0, -1);
  const sizes = jobs.map((job) => (job.data as DeliverJobData).messages.length).sort((a, b) => a - b);
  expect(sizes).toEqual([7, DELIVER_BATCH_MESSAGES, DELIVER_BATCH_MESSAGES]);

  const entries = await rt.deliverState.ledger.entries('inbox');
  expect(entries.size).toBe(COUNT);
  for (const job of jobs) {
    const data = job.data as DeliverJobData;
    expect(job.id).toBe(deliverJobId(data));
    for (const message of data.messages) {
      expect(entries.get(message.uidl)).toMatchObject({ state: 'queued', job: job.id });
    }
  }
  const uidls = jobs.flatMap((job) => (job.data as DeliverJobData).messages.map((m) => m.uidl));
  expect(new Set(uidls).size).toBe(COUNT);
});

it('reads the mailbox ledger once per session (prune works from the same read)', async () => {
  const monitor = await new Redis(redis.url).monitor();
  const reads: string[] = [];
  monitor.on('monitor', (_time: string, args: string[]) => {
    const [command, key] = args;
    if (/^(hgetall|hscan)$/i.test(command ?? '') && key?.endsWith(':ledger')) reads.push(command!);
  });
  try {
    // Every message is queued already: this session lists them, reads the ledger and prunes, nothing else.
    await pollOnce(rt, rt.config.mailboxes.inbox!);
    expect(server.transcript.filter((line) => /^C\[\d+\]: QUIT/.test(line))).toHaveLength(2);
  } finally {
    monitor.disconnect();
  }
  expect(reads).toEqual(['hscan']);
});
