// One real recovery, bounded: a poll worker under the ops layer is paused behind BullMQ's back (it stops
// consuming while isRunning() stays true, the trap DESIGN.md describes), poll jobs pile up, and the
// watchdog restarts it so the jobs are taken again, with /readyz reflecting the wedge meanwhile. Also: a
// config without a token has no dashboard and no API, while /metrics and /healthz stay open.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { Ops } from '../../../src/ops/ops.ts';
import { queueCounts } from '../../../src/ops/snapshot.ts';
import { createRuntime, type Runtime } from '../../../src/runtime/runtime.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { startPollWorker } from '../../../workers/poll-worker.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';
import { get, waitUntil } from './ops-fixture.ts';

let redis: RedisServer;
let rt: Runtime;

beforeAll(async () => {
  redis = await startRedisServer();
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'pophook-watchdog-'));
  const path = join(dir, 'pophook.yml');
  await writeFile(
    path,
    [
      `redis: { url: "${redis.url}", prefix: wd${Date.now()} }`,
      'webhooks: { hook: { url: "http://127.0.0.1:9/x", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" } }',
      'http: { host: 127.0.0.1, port: 0 }',
      'watchdog: { period: 1s, stallAfter: 1s }',
      'mailboxes:',
      '  box: { host: 127.0.0.1, port: 9, tls: none, username: u, password: p, allowPlaintextAuth: true, webhook: hook, pollInterval: 1h }',
    ].join('\n'),
  );
  const config = await loadConfig(path, {});
  await rm(dir, { recursive: true, force: true });
  rt = await createRuntime(config, silentLogger);
});

afterAll(async () => {
  await rt?.close();
  await redis?.stop();
});

describe('watchdog recovery', () => {
  it('restarts a worker that stopped consuming while isRunning() stayed true', async () => {
    const fatal: string[] = [];
    const ops = await Ops.create(rt, {
      roles: new Set(['poll']),
      onFatal: (reason) => fatal.push(reason),
    });
    const supervised = ops.supervise(
      'poll',
      () => [rt.queues.poll],
      () => {
        const worker = startPollWorker(rt, 1, ops.observer);
        return { workers: [worker], close: (force) => worker.close(force) };
      },
    );
    const port = await ops.start();
    try {
      await supervised.workers[0]!.waitUntilReady();
      await supervised.workers[0]!.pause(true);
      expect(supervised.isRunning()).toBe(true);
      // Jobs for a mailbox the worker doesn't know finish at once: consumption is all this test watches.
      for (let i = 0; i < 3; i += 1) await rt.queues.requestPoll(`ghost${i}`, 0, 'manual');
      await waitUntil(
        'the wedge seen by /readyz',
        async () => (await get(port!, '/readyz')).status === 503,
        5_000,
      );
      await waitUntil('worker restarted', () => supervised.restarts === 1, 5_000);
      await waitUntil('jobs consumed', async () => (await queueCounts(rt.queues.poll)).waiting === 0, 5_000);
      await waitUntil('ready again', async () => (await get(port!, '/readyz')).status === 200, 5_000);
      expect(fatal).toEqual([]);
      expect((await get(port!, '/metrics')).text).toMatch(
        /^pophook_watchdog_recoveries_total\{check="workers"\} 1$/m,
      );
    } finally {
      supervised.force();
      await supervised.close();
      await ops.close();
    }
  });

  it('without a token: no dashboard or API (404), metrics and health open', async () => {
    const ops = await Ops.create(rt, { roles: new Set(['deliver']), onFatal: () => {} });
    const port = (await ops.start())!;
    try {
      expect((await get(port, '/dashboard')).status).toBe(404);
      expect((await get(port, '/api/status', 'anything-at-all-12345')).status).toBe(404);
      expect((await get(port, '/healthz')).status).toBe(200);
      expect((await get(port, '/metrics')).status).toBe(200);
    } finally {
      await ops.close();
    }
  });
});
