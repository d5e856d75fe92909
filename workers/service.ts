// A long-running pophook process with any mix of roles (scheduler, poll worker, deliver worker), and its
// two-stage shutdown: the first SIGTERM/SIGINT drains (no new jobs; sessions and deliveries in flight
// finish), a second signal or the drain timeout forces (in-flight work is abandoned: a POP3 session ends
// without QUIT so its DELEs are not committed, a delivery is retried by another worker). Exit code 0.
import type { Config } from '../src/config/index.ts';
import type { Logger } from '../src/ops/logger.ts';
import { startDeliverWorker } from './deliver-worker.ts';
import { startPollWorker } from './poll-worker.ts';
import { createRuntime } from './runtime.ts';
import { startScheduler } from './scheduler.ts';

export type Role = 'scheduler' | 'poll' | 'deliver';

const DRAIN_TIMEOUT_MS = 30_000;
const MAX_POLL_CONCURRENCY = 8;

export async function runService(roles: ReadonlySet<Role>, config: Config, logger: Logger): Promise<number> {
  const rt = await createRuntime(config, logger);
  const closers: Array<(force: boolean) => Promise<void>> = [];
  if (roles.has('scheduler')) {
    const scheduler = await startScheduler(rt);
    closers.push(() => scheduler.close());
  }
  if (roles.has('poll')) {
    const concurrency = Math.min(MAX_POLL_CONCURRENCY, Object.keys(config.mailboxes).length);
    const worker = startPollWorker(rt, Math.max(1, concurrency));
    closers.push((force) => worker.close(force));
  }
  if (roles.has('deliver')) {
    const deliver = startDeliverWorker(rt, config.delivery.concurrency);
    closers.push(async (force) => {
      if (force) await Promise.allSettled(deliver.workers.map((worker) => worker.close(true)));
      await deliver.close();
    });
  }
  logger.info({ roles: [...roles] }, 'pophook started');

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (force: boolean) => {
      await Promise.allSettled(closers.map((close) => close(force)));
      await rt.close();
      logger.info({ force }, 'pophook stopped');
      resolve(0);
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
