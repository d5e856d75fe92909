// A long-running pophook process with any mix of roles (scheduler, poll worker, deliver worker): wires the
// runtime, the ops layer and the workers, and stops in two stages (src/runtime/shutdown.ts). The first
// SIGTERM/SIGINT drains; a second signal or the drain timeout forces (a POP3 session ends without QUIT so
// its DELEs are not committed; a delivery is retried by another worker). Exit code 0. When the watchdog
// gives up, the process stops with exit code 1 so a supervisor (docker, systemd) starts a fresh one.
import type { Config } from '../src/config/index.ts';
import { Ops } from '../src/ops/ops.ts';
import type { Role } from '../src/runtime/roles.ts';
import { createRuntime, type Runtime } from '../src/runtime/runtime.ts';
import { type StoppablePart, TwoStageShutdown } from '../src/runtime/shutdown.ts';
import type { Logger } from '../src/telemetry/logger.ts';
import { startDeliverWorker } from './deliver-worker.ts';
import { startPollWorker } from './poll-worker.ts';
import { startScheduler } from './scheduler.ts';

const DRAIN_TIMEOUT_MS = 30_000;
const MAX_POLL_CONCURRENCY = 8;
/** After a force, exit even if a wedged worker never finishes closing. */
const FORCE_GRACE_MS = 10_000;

export async function runService(roles: ReadonlySet<Role>, config: Config, logger: Logger): Promise<number> {
  const rt = await createRuntime(config, logger);
  let onFatal = (_reason: string) => {};
  const ops = new Ops(rt, { roles, onFatal: (reason) => onFatal(reason) });
  const parts = await startRoles(rt, ops, roles);
  await ops.start();
  logger.info({ roles: [...roles] }, 'pophook started');
  const finish = async () => {
    await ops.close();
    await rt.close();
  };
  const shutdown = new TwoStageShutdown(parts, finish, FORCE_GRACE_MS);
  return new Promise<number>((resolve) => {
    let exitCode = 0;
    let done = false;
    const resolveWhen = (stop: Promise<void>) =>
      void stop.then(() => {
        if (done) return;
        done = true;
        logger.info({ forced: shutdown.forced, exitCode }, 'pophook stopped');
        resolve(exitCode);
      });
    onFatal = (reason) => {
      logger.error({ reason }, 'watchdog gave up: exiting so a supervisor restarts pophook');
      exitCode = 1;
      ops.drain();
      resolveWhen(shutdown.force());
    };
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      ops.drain();
      if (signals > 1) {
        logger.warn({ signal }, 'second signal: forcing shutdown');
        resolveWhen(shutdown.force());
        return;
      }
      logger.info({ signal }, 'draining: no new work, waiting for work in flight');
      const timer = setTimeout(() => resolveWhen(shutdown.force()), DRAIN_TIMEOUT_MS);
      timer.unref();
      resolveWhen(shutdown.drain().finally(() => clearTimeout(timer)));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/**
 * Starts the workers of each role under the ops layer's supervision. Mail is fetched only once it can be
 * delivered: a deliver worker's parser threads take about a second each to load, and "pophook started"
 * means able to work.
 */
async function startRoles(rt: Runtime, ops: Ops, roles: ReadonlySet<Role>): Promise<StoppablePart[]> {
  const parts: StoppablePart[] = [];
  let parsersReady = Promise.resolve();
  if (roles.has('deliver')) {
    const deliver = ops.supervise(
      'deliver',
      () => rt.queues.deliverShards,
      () => {
        const started = startDeliverWorker(rt, ops.observer);
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
    parts.push(deliver);
  }
  await parsersReady;
  if (roles.has('scheduler')) {
    const scheduler = await startScheduler(rt);
    parts.push({ close: () => scheduler.close(), force: () => {} });
  }
  if (roles.has('poll')) {
    const concurrency = Math.max(1, Math.min(MAX_POLL_CONCURRENCY, Object.keys(rt.config.mailboxes).length));
    const poll = ops.supervise(
      'poll',
      () => [rt.queues.poll],
      () => {
        const worker = startPollWorker(rt, concurrency, ops.observer);
        return { workers: [worker], close: (force) => worker.close(force) };
      },
    );
    parts.push(poll);
  }
  return parts;
}
