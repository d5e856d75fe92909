// The poll side fails fast when Redis goes away (DESIGN.md "Known traps": producers have no offline
// queue): Redis stopped in the middle of a session ends that session with an error within seconds, before
// QUIT, so the server commits nothing and keeps every message; and an enqueue on the runtime's queues
// rejects at once instead of waiting for Redis to come back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollOnce } from '../../../src/mailbox/poll-job.ts';
import { queuedMessage } from '../../../src/queue/jobs.ts';
import type { Runtime } from '../../../src/runtime/runtime.ts';
import { type FakePop3Server, startFakePop3Server } from '../../helpers/fake-pop3-server.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';
import { fakeServerRuntime } from './fake-server-runtime.ts';

const MESSAGES = ['one', 'two', 'three'].map((word, i) => ({
  uid: `uid-${i + 1}`,
  body: `Subject: ${word}\r\n\r\nbody ${word}\r\n`,
}));

let redis: RedisServer;
let server: FakePop3Server;
let rt: Runtime;
let redisStopped = false;

beforeAll(async () => {
  redis = await startRedisServer();
  server = await startFakePop3Server({
    messages: MESSAGES,
    overrides: {
      // The first RETR takes Redis down before its answer goes out.
      RETR: async () => {
        if (!redisStopped) {
          redisStopped = true;
          await redis.stop();
        }
        return undefined;
      },
    },
  });
  rt = await fakeServerRuntime(redis.url, server.port, 'outage');
});

afterAll(async () => {
  await rt?.close();
  await server?.stop();
  await redis?.stop();
});

describe('Redis going away in the middle of a poll session', () => {
  it('ends the session before QUIT within seconds; an enqueue rejects at once', async () => {
    const started = Date.now();
    await expect(pollOnce(rt, rt.config.mailboxes.inbox!)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(redisStopped).toBe(true);
    expect(server.transcript.some((line) => /^C\[\d+\]: RETR /.test(line))).toBe(true);
    expect(server.transcript.filter((line) => /^C\[\d+\]: (QUIT|DELE)/.test(line))).toEqual([]);
    expect(server.mailbox.map((m) => m.uid)).toEqual(['uid-1', 'uid-2', 'uid-3']);

    const enqueueStarted = Date.now();
    const messages = [queuedMessage('uid-9', 'inbox', 10, Date.now())];
    await expect(rt.queues.enqueueDelivery({ mailbox: 'inbox', webhook: 'rx', messages })).rejects.toThrow();
    expect(Date.now() - enqueueStarted).toBeLessThan(2_000);
  });
});
