// A long-running pophook process with any mix of roles (scheduler, poll worker, deliver worker), and its
// two-stage shutdown: the first SIGTERM/SIGINT drains (no new jobs; sessions and deliveries in flight
// finish), a second signal or the drain timeout forces (in-flight work is abandoned: a POP3 session ends
// without QUIT so its DELEs are not committed, a delivery is retried by another worker). Exit code 0.
// The ops layer (src/ops/ops.ts) supervises the workers; when its watchdog gives up, the process stops
// with exit code 1 so a supervisor (docker, systemd) starts a fresh one.
import type { Config } from '../src/config/index.ts';
import type { Logger } from '../src/ops/logger.ts';
import { Ops } from '../src/ops/ops.ts';
import { startDeliverWorker } from './deliver-worker.ts';
import { startPollWorker } from './poll-worker.ts';
import { createRuntime } from './runtime.ts';
import { startScheduler } from './scheduler.ts';

export type Role = 'scheduler' | 'poll' | 'deliver';

const DRAIN_TIMEOUT_MS = 30_000;
const MAX_POLL_CONCURRENCY = 8;
/** After the watchdog gave up, exit even if a wedged worker never finishes closing. */
const FATAL_EXIT_MS = 10_000;

export async function runService(roles: ReadonlySet<Role>, config: Config, logger: Logger): Promise<number> {
  const rt = await createRuntime(config, logger);
  let onFatal = (_reason: string) => {};
  const ops = new Ops(rt, {
    roles,
    onFatal: (reason) => onFatal(reason),
    watchdogPeriodMs: config.watchdog.periodMs,
    stallAfterMs: config.watchdog.stallAfterMs,
    staleIntervals: config.watchdog.staleIntervals,
  });
  const closers: Array<(force: boolean) => Promise<void>> = [];
  let parsersReady = Promise.resolve();
  if (roles.has('deliver')) {
    const deliver = ops.supervise(
      'deliver',
      () => rt.queues.deliverShards,
      () => {
        const started = startDeliverWorker(rt, config.delivery.concurrency, ops.observer);
        parsersReady = started.ready;
        return {
          workers: started.workers,
          close: async (force) => {
            if (force) await Promise.allSettled(started.workers.map((worker) => worker.close(true)));
            await started.close();
          },
        };
      },
    );
    closers.push((force) => deliver.close(force));
  }
  // Mail is fetched only once it can be delivered: a deliver worker's parser threads take about a second
  // each to load, and "pophook started" means able to work.
  await parsersReady;
  if (roles.has('scheduler')) {
    const scheduler = await startScheduler(rt);
    closers.push(() => scheduler.close());
  }
  if (roles.has('poll')) {
    const concurrency = Math.min(MAX_POLL_CONCURRENCY, Object.keys(config.mailboxes).length);
    const poll = ops.supervise(
      'poll',
      () => [rt.queues.poll],
      () => {
        const worker = startPollWorker(rt, Math.max(1, concurrency), ops.observer);
        return { workers: [worker], close: (force) => worker.close(force) };
      },
    );
    closers.push((force) => poll.close(force));
  }
  await ops.start();
  logger.info({ roles: [...roles] }, 'pophook started');

  return new Promise<number>((resolve) => {
    let stopping = false;
    let exitCode = 0;
    const stop = async (force: boolean) => {
      ops.drain();
      await Promise.allSettled(closers.map((close) => close(force)));
      await ops.close();
      await rt.close();
      logger.info({ force, exitCode }, 'pophook stopped');
      resolve(exitCode);
    };
    onFatal = (reason) => {
      logger.error({ reason }, 'watchdog gave up: exiting so a supervisor restarts pophook');
      exitCode = 1;
      stopping = true;
      setTimeout(() => resolve(1), FATAL_EXIT_MS).unref();
      void stop(true);
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: forcing shutdown');
        void stop(true);
        return;
      }
      stopping = true;
      logger.info({ signal }, 'draining: no new work, waiting for work in flight');
      const timer = setTimeout(() => void stop(true), DRAIN_TIMEOUT_MS);
      timer.unref();
      void stop(false).finally(() => clearTimeout(timer));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
