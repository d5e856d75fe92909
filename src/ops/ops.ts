// The ops layer of one long-running pophook process, wired by workers/service.ts (a Runtime from src/runtime): the observer the
// workers report to (metrics, per-webhook stats in Redis), supervised workers, the watchdog, readiness,
// and the HTTP listener (/metrics, /healthz, /readyz, dashboard) when the config has an `http` section.
import type { Queue } from 'bullmq';
import type { MailboxMetaStore } from '../mailbox/meta.ts';
import { pollSchedulerId } from '../queue/jobs.ts';
import type { Role } from '../runtime/roles.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { type DeliveryObservation, type OpsObserver, statusClass } from '../telemetry/observations.ts';
import { dashboardApiRoutes } from './dashboard-api.ts';
import { dashboardPageRoutes } from './dashboard-page.ts';
import type { DeliveryStats } from './delivery-stats.ts';
import { json, type OpsHttpServer, type Route, startHttpServer } from './http-server.ts';
import type { PophookMetrics } from './metrics.ts';
import { decideReadiness, probeRedis, withTimeout } from './readiness.ts';
import {
  cachedSnapshot,
  queueCounts,
  readMailboxState,
  readSnapshot,
  type Snapshot,
  snapshotSources,
} from './snapshot.ts';
import { SupervisedWorker, type WorkerHandle } from './supervised-worker.ts';
import { staleSchedules, Watchdog, type WatchdogTarget, workerProblem } from './watchdog.ts';

/** The parts of a Runtime the ops layer uses. */
export type OpsRuntime = Pick<
  Runtime,
  'config' | 'logger' | 'owner' | 'redis' | 'outage' | 'queues' | 'meta' | 'pollState' | 'tokens'
>;

export interface OpsOptions {
  roles: ReadonlySet<Role>;
  /** The watchdog gave up: the entry point should exit non-zero so a supervisor restarts the process. */
  onFatal(reason: string): void;
  now?: () => number;
}

const PROBE_TIMEOUT_MS = 2_000;

export class Ops {
  /** Absent without an `http` section: nothing could scrape it, and prom-client is not loaded. */
  readonly metrics: PophookMetrics | undefined;
  readonly observer: OpsObserver;
  readonly watchdog: Watchdog;
  readonly #workers: Array<{ worker: SupervisedWorker; queues: () => readonly Queue[]; lastIdleAt: number }> =
    [];
  readonly #meta: MailboxMetaStore;
  readonly #stats: DeliveryStats;
  #statsBatch: Promise<void> | undefined;
  readonly #snapshot: () => Promise<Snapshot>;
  readonly #now: () => number;
  readonly #startedAt: number;
  #http: OpsHttpServer | undefined;
  #draining = false;

  /** The ops layer; prom-client is loaded only for a config with an `http` section (start-up CPU). */
  static async create(rt: OpsRuntime, options: OpsOptions): Promise<Ops> {
    const metrics = rt.config.http ? (await import('./metrics.ts')).PophookMetrics : undefined;
    return new Ops(rt, options, metrics);
  }

  private constructor(
    private readonly rt: OpsRuntime,
    private readonly options: OpsOptions,
    Metrics: typeof PophookMetrics | undefined,
  ) {
    this.#now = options.now ?? Date.now;
    this.#startedAt = this.#now();
    const sources = snapshotSources(rt);
    this.#meta = sources.meta;
    this.#stats = sources.stats;
    this.#snapshot = cachedSnapshot(() => readSnapshot(sources, this.#now()));
    this.metrics = Metrics && new Metrics(this.#snapshot);
    this.observer = {
      poll: (o) => this.metrics?.observePoll(o),
      delivery: (o) => this.#onDelivery(o),
    };
    this.watchdog = new Watchdog(this.#targets(), {
      periodMs: rt.config.watchdog.periodMs,
      logger: rt.logger.child({ component: 'watchdog' }),
      onFatal: options.onFatal,
      onRecover: (check) => this.metrics?.observeRecovery(check),
      redis: rt.outage,
      now: this.#now,
    });
  }

  /** Runs a worker under the watchdog: `queues` are the queues it consumes (for the stall check). */
  supervise(name: string, queues: () => readonly Queue[], create: () => WorkerHandle): SupervisedWorker {
    const worker = new SupervisedWorker(name, create, { now: this.#now, logger: this.rt.logger });
    this.#workers.push({ worker, queues, lastIdleAt: this.#startedAt });
    return worker;
  }

  /** Starts the watchdog and, when configured, the HTTP listener; returns its port. */
  async start(): Promise<number | undefined> {
    this.watchdog.start();
    const http = this.rt.config.http;
    if (!http) return undefined;
    this.#http = await startHttpServer({
      host: http.host,
      port: http.port,
      ...(http.token ? { token: http.token } : {}),
      routes: this.#routes(Boolean(http.token)),
      logger: this.rt.logger,
    });
    this.rt.logger.info(
      { host: http.host, port: this.#http.port, dashboard: Boolean(http.token) },
      'ops http listening',
    );
    return this.#http.port;
  }

  /** Shutdown begins: the watchdog stops (closing workers is not a wedge) and /readyz answers 503. */
  drain(): void {
    this.#draining = true;
    this.watchdog.stop();
  }

  async close(): Promise<void> {
    this.drain();
    await this.#http?.close();
    await this.#stats.flush().catch((error: unknown) => {
      this.rt.logger.debug({ err: (error as Error).message }, 'delivery stats not recorded');
    });
  }

  async readiness(): Promise<{ ready: boolean; checks: ReturnType<typeof decideReadiness>['checks'] }> {
    const { config, owner, redis } = this.rt;
    const probe = await probeRedis(
      redis.failFast,
      `${config.redis.prefix}:ops:probe:${owner}`,
      PROBE_TIMEOUT_MS,
    );
    const watchesMailboxes = this.options.roles.has('poll') || this.options.roles.has('scheduler');
    let mailboxes: Parameters<typeof decideReadiness>[0]['mailboxes'];
    if (probe === true && watchesMailboxes) {
      const all = Object.values(config.mailboxes);
      const now = this.#now();
      const states = await withTimeout(
        Promise.all(all.map((m) => readMailboxState({ meta: this.#meta, tokens: this.rt.tokens }, m, now))),
        PROBE_TIMEOUT_MS,
      ).catch(() => undefined);
      mailboxes =
        states &&
        all.map((m, i) => ({
          id: m.id,
          pollIntervalMs: m.pollIntervalMs,
          ...states[i]!.meta,
          state: states[i]!.state,
        }));
    }
    const decision = decideReadiness({
      now: this.#now(),
      startedAt: this.#startedAt,
      staleIntervals: config.watchdog.staleIntervals,
      redis: probe === true ? { ok: true } : { ok: false, detail: this.rt.outage.describe() ?? probe },
      workers: this.#workers.map(({ worker }) => ({ name: worker.name, running: worker.isRunning() })),
      watchdog: this.watchdog.problems(),
      ...(mailboxes ? { mailboxes } : {}),
    });
    if (!this.#draining) return decision;
    return {
      ready: false,
      checks: [...decision.checks, { name: 'shutdown', ok: false, detail: 'draining' }],
    };
  }

  #onDelivery(o: DeliveryObservation): void {
    this.metrics?.observeDelivery(o);
    // A deliver job carries a window of messages and may run for minutes against a slow webhook: each
    // finished attempt is progress, not only a job taken or finished.
    for (const { worker } of this.#workers) if (worker.name === 'deliver') worker.noteProgress();
    const cls = statusClass(o);
    if (cls === undefined) return;
    const attempt = {
      at: this.#now(),
      ok: o.outcome === 'delivered',
      class: cls,
      ...(o.status === undefined ? {} : { status: o.status }),
      ...(o.code === undefined ? {} : { code: o.code }),
    };
    // One promise per batch of attempts: its failure is logged once, not once per attempt.
    const batch = this.#stats.record(o.webhook, attempt);
    if (batch === this.#statsBatch) return;
    this.#statsBatch = batch;
    batch.catch((error: unknown) => {
      this.rt.logger.debug({ err: (error as Error).message }, 'delivery stats not recorded');
    });
  }

  #targets(): WatchdogTarget[] {
    const { stallAfterMs } = this.rt.config.watchdog;
    const targets: WatchdogTarget[] = [
      {
        check: 'workers',
        inspect: async (now) => {
          const problems: string[] = [];
          for (const entry of this.#workers) {
            const counts = await Promise.all(entry.queues().map(queueCounts));
            const waiting = counts.reduce((sum, c) => sum + c.waiting, 0);
            if (waiting === 0) entry.lastIdleAt = now;
            const { worker } = entry;
            const progress = {
              running: worker.isRunning(),
              waiting,
              lastProgressAt: worker.lastProgressAt,
              // After an outage the workers get stallAfter to take work again, as after a start.
              lastIdleAt: Math.max(entry.lastIdleAt, this.rt.outage.upSince),
            };
            const problem = workerProblem(progress, now, stallAfterMs);
            if (problem) problems.push(`${worker.name}: ${problem}`);
          }
          return problems.length === 0 ? undefined : problems.join('; ');
        },
        recover: async () => {
          for (const { worker } of this.#workers) await worker.restart();
        },
      },
    ];
    if (this.options.roles.has('scheduler')) targets.push(this.#scheduleTarget());
    return targets;
  }

  #scheduleTarget(): WatchdogTarget {
    const { queues, config } = this.rt;
    const mailboxes = Object.values(config.mailboxes);
    return {
      check: 'schedules',
      inspect: async (now) => {
        const [views, counts] = await Promise.all([
          Promise.all(
            mailboxes.map(async (m) => {
              const [meta, scheduler] = await Promise.all([
                this.#meta.read(m.id),
                queues.poll.getJobScheduler(pollSchedulerId(m.id)),
              ]);
              return {
                id: m.id,
                pollIntervalMs: m.pollIntervalMs,
                ...meta,
                hasScheduler: scheduler !== undefined,
              };
            }),
          ),
          queueCounts(queues.poll),
        ]);
        const stale = staleSchedules(
          views,
          counts.waiting,
          now,
          Math.max(this.#startedAt, this.rt.outage.upSince),
          this.rt.config.watchdog.staleIntervals,
        );
        return stale.length === 0 ? undefined : `no polls produced for ${stale.join(', ')}`;
      },
      recover: () => queues.syncSchedules(mailboxes),
    };
  }

  #routes(tokenConfigured: boolean): Route[] {
    const { rt, metrics } = this;
    return [
      ...(metrics
        ? [
            {
              method: 'GET' as const,
              path: '/metrics',
              handle: async () => ({
                status: 200,
                headers: { 'content-type': metrics.contentType },
                body: await metrics.render(),
              }),
            },
          ]
        : []),
      { method: 'GET', path: '/healthz', handle: () => json(200, { status: 'alive', owner: rt.owner }) },
      {
        method: 'GET',
        path: '/readyz',
        handle: async () => {
          const { ready, checks } = await this.readiness();
          return json(ready ? 200 : 503, { status: ready ? 'ready' : 'unready', checks });
        },
      },
      ...dashboardPageRoutes(tokenConfigured),
      ...dashboardApiRoutes({
        ledger: rt.pollState.ledger,
        raw: rt.pollState.raw,
        queues: rt.queues,
        mailboxes: rt.config.mailboxes,
        snapshot: this.#snapshot,
        problems: () => this.watchdog.problems(),
        logger: rt.logger,
      }),
    ];
  }
}
