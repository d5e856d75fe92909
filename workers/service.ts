// A long-running pophook process with any mix of roles (scheduler, poll worker, deliver worker): wires the
// runtime, the ops layer and the workers, and stops in two stages (src/runtime/shutdown.ts). The first
// SIGTERM/SIGINT drains; a second signal or the drain timeout forces (a POP3 session ends without QUIT so
// its DELEs are not committed; a delivery is retried by another worker). Exit code 0. When the watchdog
// gives up, the process stops with exit code 1 so a supervisor (docker, systemd) starts a fresh one. Redis
// down at start is waited for (a signal meanwhile stops the wait, exit code 0).
import type { Config } from '../src/config/index.ts';
import { Ops } from '../src/ops/ops.ts';
import type { RedisOutage } from '../src/runtime/redis-outage.ts';
import type { Role } from '../src/runtime/roles.ts';
import { createRuntime, type Runtime } from '../src/runtime/runtime.ts';
import { type StoppablePart, TwoStageShutdown } from '../src/runtime/shutdown.ts';
import { useServiceV8Flags } from '../src/runtime/v8-flags.ts';
import type { Logger } from '../src/telemetry/logger.ts';
import { startDeliverWorker } from './deliver-worker.ts';
import { startEventWorker } from './event-worker.ts';
import { startPollWorker } from './poll-worker.ts';
import { startScheduler } from './scheduler.ts';

const DRAIN_TIMEOUT_MS = 30_000;
const MAX_POLL_CONCURRENCY = 8;
/** After a force, exit even if a wedged worker never finishes closing. */
const FORCE_GRACE_MS = 10_000;

export async function runService(roles: ReadonlySet<Role>, config: Config, logger: Logger): Promise<number> {
  // One listener per signal for the whole life of the process, its behaviour switched as the service moves
  // on: removing a listener stops Node's watcher, and a signal arriving in that instant would be dropped,
  // or kill the process with no listener at all (seen with a SIGTERM right after "pophook started").
  // Before the roles run (Redis down at start: the wait for it) a signal stops the start-up.
  const starting = new AbortController();
  let onSignal = (signal: NodeJS.Signals) => starting.abort(signal);
  const listener = (signal: NodeJS.Signals) => onSignal(signal);
  process.on('SIGTERM', listener);
  process.on('SIGINT', listener);
  let started: Started;
  try {
    started = await startService(roles, config, logger, starting.signal);
  } catch (error) {
    process.off('SIGTERM', listener);
    process.off('SIGINT', listener);
    if (!starting.signal.aborted) throw error;
    logger.info({ signal: starting.signal.reason }, 'pophook stopped before it started');
    return 0;
  }
  return runUntilStopped(started, logger, starting.signal, (handler) => {
    onSignal = handler;
  });
}

interface Started {
  ops: Ops;
  shutdown: TwoStageShutdown;
  /** Resolves with the reason when the watchdog gives up. */
  fatal: Promise<string>;
  outage: RedisOutage;
}

async function startService(
  roles: ReadonlySet<Role>,
  config: Config,
  logger: Logger,
  signal: AbortSignal,
): Promise<Started> {
  const rt = await createRuntime(config, logger, { waitForRedis: true, signal });
  let giveUp: (reason: string) => void = () => {};
  const fatal = new Promise<string>((resolve) => {
    giveUp = resolve;
  });
  const ops = await Ops.create(rt, { roles, onFatal: giveUp });
  // A process without parse threads has no code cache left to read: its flags now, before its first poll
  // (an OAuth token's request compiles Node's own HTTP parser). A deliver worker sets them once its parse
  // threads are up (startRoles).
  if (!roles.has('deliver')) useServiceV8Flags();
  const parts = await startRoles(rt, ops, roles);
  await ops.start();
  // CPU of every thread since exec (rusage of the process), the start-up cost the benchmark reports.
  const cpu = process.cpuUsage();
  logger.info(
    { roles: [...roles], startupCpuMs: Math.round((cpu.user + cpu.system) / 1000) },
    'pophook started',
  );
  const finish = async () => {
    await ops.close();
    await rt.close();
  };
  return { ops, shutdown: new TwoStageShutdown(parts, finish, FORCE_GRACE_MS), fatal, outage: rt.outage };
}

/** Runs until a signal (one drains, a second forces) or the watchdog gives up (exit code 1). */
function runUntilStopped(
  { ops, shutdown, fatal, outage }: Started,
  logger: Logger,
  earlySignal: AbortSignal,
  handleSignals: (handler: (signal: NodeJS.Signals) => void) => void,
): Promise<number> {
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
    void fatal.then((reason) => {
      logger.error({ reason }, 'watchdog gave up: exiting so a supervisor restarts pophook');
      exitCode = 1;
      ops.drain();
      resolveWhen(shutdown.force());
    });
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      ops.drain();
      if (signals > 1) {
        logger.warn({ signal }, 'second signal: forcing shutdown');
        resolveWhen(shutdown.force());
        return;
      }
      if (outage.down) {
        // Without Redis nothing in flight can finish (its ledger write waits for Redis): abandon it, it is
        // retried once Redis is back.
        logger.warn({ signal }, 'Redis is down: forcing shutdown, work in flight is retried later');
        resolveWhen(shutdown.force());
        return;
      }
      logger.info({ signal }, 'draining: no new work, waiting for work in flight');
      const timer = setTimeout(() => resolveWhen(shutdown.force()), DRAIN_TIMEOUT_MS);
      timer.unref();
      resolveWhen(shutdown.drain().finally(() => clearTimeout(timer)));
    };
    handleSignals(onSignal);
    // A signal that came while the roles were starting.
    if (earlySignal.aborted) onSignal(earlySignal.reason as NodeJS.Signals);
  });
}

/**
 * Starts the workers of each role under the ops layer's supervision. Mail is fetched only once it can be
 * delivered: a deliver worker's parser threads take about a second each to load, and "pophook started"
 * means able to work (its workers' Redis connections are up too).
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
        // Once the threads loaded their code (under the flags of their code cache), before a delivery's
        // first webhook request (which compiles undici's WebAssembly).
        parsersReady = started.ready.then(useServiceV8Flags);
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
    const events = ops.supervise(
      'events',
      () => [rt.queues.events],
      () => {
        const started = startEventWorker(rt);
        return {
          workers: [started.worker],
          close: async (force) => {
            if (force) await started.worker.close(true);
            await started.close();
          },
        };
      },
    );
    parts.push(events);
    await Promise.all([parsersReady, deliver.ready(), events.ready()]);
  }
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
    await poll.ready();
  }
  return parts;
}
