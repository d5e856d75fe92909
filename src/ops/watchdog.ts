// The watchdog (DESIGN.md "Known traps": workers that stop consuming while isRunning() stays true, job
// schedulers that stop producing). Every period it asks each target whether it is wedged. The first time
// it is, it logs an error and recovers (restart the worker, re-sync the schedules); if the next look, once
// the recovery has had time to work, still finds it wedged, recovery did not help and it calls onFatal()
// so the entry point exits non-zero and a supervisor restarts the process. A Redis outage is not a wedge:
// an inspection that fails, or runs into an outage, can't tell (judgeInspection). The decisions are pure
// functions, tested with fake time.
import { type Logger, silentLogger } from '../telemetry/logger.ts';

export interface WatchdogTarget {
  readonly check: string;
  /** What is wrong, or undefined when healthy. Throws when it can't tell (a failed read): no decision then. */
  inspect(now: number): Promise<string | undefined>;
  recover(): Promise<void>;
}

/** What one inspection came back with. */
export type Inspection =
  | { kind: 'answered'; problem: string | undefined }
  | { kind: 'failed'; error: string }
  | { kind: 'silent'; timeoutMs: number };

export const CANT_TELL = 'cant-tell';

/**
 * Pure: the problem an inspection shows (undefined: healthy), or CANT_TELL. While Redis is down, or when
 * an outage ran into the inspection, nothing it saw is the workers' fault (the outage module tells the
 * operator, /readyz shows it). A refused or failed read says nothing about the workers either. A read
 * that never answers while Redis is up (no connection error, no close) is the half-open link of a wedge
 * (DESIGN.md "Known traps"): a problem, so recovery and, failing that, a supervised restart get fresh
 * connections.
 */
export function judgeInspection(
  inspection: Inspection,
  redisWasDown: boolean,
): { problem: string | undefined } | typeof CANT_TELL {
  if (redisWasDown || inspection.kind === 'failed') return CANT_TELL;
  if (inspection.kind === 'silent')
    return { problem: `no answer from Redis within ${inspection.timeoutMs} ms` };
  return { problem: inspection.problem };
}

export interface CheckState {
  problem?: string;
  wedgedSince?: number;
  /** When the recovery finished (a restart may wait for a stuck worker to close). */
  recoveredAt?: number;
}

export type WatchdogAction = 'none' | 'recover' | 'fatal' | 'healed';

/**
 * Pure: the next state of one check and what to do, given what inspect() found. Rounds are a period apart,
 * so normally the round after a recovery decides; it must come at least half a period after the recovery
 * finished. Half, not a whole one: the clock is read after each inspection, and an inspection that answers
 * faster than the previous one must not cost a whole extra period; a recovery that ran into the next round
 * (a stuck worker that took long to close) still gives the fresh worker a moment.
 */
export function decide(
  state: CheckState,
  problem: string | undefined,
  now: number,
  periodMs: number,
): { state: CheckState; action: WatchdogAction } {
  if (problem === undefined) {
    return { state: {}, action: state.wedgedSince === undefined ? 'none' : 'healed' };
  }
  const wedgedSince = state.wedgedSince ?? now;
  if (state.recoveredAt === undefined) {
    return { state: { problem, wedgedSince, recoveredAt: now }, action: 'recover' };
  }
  const action = now - state.recoveredAt >= periodMs / 2 ? 'fatal' : 'none';
  return { state: { problem, wedgedSince, recoveredAt: state.recoveredAt }, action };
}

export interface WorkerProgress {
  running: boolean;
  /** Jobs ready for a worker right now, fleet-wide. */
  waiting: number;
  /** Last time a worker of this process took or finished a job. */
  lastProgressAt: number;
  /** Last time the queue was seen with nothing waiting: an idle queue is never a stall. */
  lastIdleAt: number;
}

/** Pure: a worker is wedged when it stopped, or when jobs have waited `stallAfterMs` and it took none. */
export function workerProblem(p: WorkerProgress, now: number, stallAfterMs: number): string | undefined {
  if (!p.running) return 'worker is not running';
  if (p.waiting === 0) return undefined;
  const quietMs = now - Math.max(p.lastProgressAt, p.lastIdleAt);
  if (quietMs < stallAfterMs) return undefined;
  return `${p.waiting} job(s) waiting, none taken for ${Math.round(quietMs / 1000)} s`;
}

export interface ScheduleView {
  id: string;
  pollIntervalMs: number;
  /** Last poll that completed with any outcome, fleet-wide (meta hash). */
  lastPollAt?: number;
  /** LOGIN-DELAY: no poll is due before this. */
  notBefore?: number;
  hasScheduler: boolean;
}

/**
 * Pure: mailboxes whose schedule stopped producing: the job scheduler is gone, or no poll completed for
 * `intervals` poll intervals (counted from start at the earliest) while no poll job waits for a worker
 * (waiting jobs mean the schedule produces and the workers are the problem).
 */
export function staleSchedules(
  mailboxes: readonly ScheduleView[],
  pollWaiting: number,
  now: number,
  startedAt: number,
  intervals: number,
): string[] {
  const stale: string[] = [];
  for (const m of mailboxes) {
    const since = Math.max(m.lastPollAt ?? 0, m.notBefore ?? 0, startedAt);
    if (!m.hasScheduler || (pollWaiting === 0 && now - since > intervals * m.pollIntervalMs))
      stale.push(m.id);
  }
  return stale;
}

export interface WatchdogOptions {
  periodMs: number;
  /** An inspection that has not answered by then counts as a problem (default: half the period). */
  inspectTimeoutMs?: number;
  logger?: Logger;
  onFatal(reason: string): void;
  onRecover?(check: string): void;
  /** The Redis outage state: whether Redis was down at any time since a moment (src/runtime/redis-outage.ts). */
  redis?: { downSince(since: number): boolean };
  now?: () => number;
}

export class Watchdog {
  readonly #states = new Map<string, CheckState>();
  readonly #logger: Logger;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;

  constructor(
    private readonly targets: readonly WatchdogTarget[],
    private readonly options: WatchdogOptions,
  ) {
    this.#logger = options.logger ?? silentLogger;
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.tick(), this.options.periodMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Current problems by check (empty when all is well), for /readyz and the dashboard. */
  problems(): Map<string, string> {
    const found = new Map<string, string>();
    for (const [check, state] of this.#states) if (state.problem) found.set(check, state.problem);
    return found;
  }

  /** One round over every target; overlapping rounds are not started. */
  tick(): Promise<void> {
    this.#ticking ??= this.#round().finally(() => {
      this.#ticking = undefined;
    });
    return this.#ticking;
  }

  async #round(): Promise<void> {
    for (const target of this.targets) {
      const started = this.#now();
      const inspection = await this.#inspect(target);
      const verdict = judgeInspection(inspection, this.options.redis?.downSince(started) ?? false);
      if (verdict === CANT_TELL) {
        this.#logger.debug({ check: target.check, inspection }, 'watchdog cannot tell');
        continue;
      }
      const now = this.#now();
      const { state, action } = decide(
        this.#states.get(target.check) ?? {},
        verdict.problem,
        now,
        this.options.periodMs,
      );
      this.#states.set(target.check, state);
      await this.#act(target, action, state);
    }
  }

  /** Runs one inspection within its time budget; never throws. */
  async #inspect(target: WatchdogTarget): Promise<Inspection> {
    const timeoutMs = this.options.inspectTimeoutMs ?? Math.floor(this.options.periodMs / 2);
    let timer: NodeJS.Timeout | undefined;
    const silent = new Promise<Inspection>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'silent', timeoutMs }), timeoutMs);
    });
    const answered = target.inspect(this.#now()).then(
      (problem): Inspection => ({ kind: 'answered', problem }),
      (error: unknown): Inspection => ({ kind: 'failed', error: (error as Error).message }),
    );
    try {
      return await Promise.race([answered, silent]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #act(target: WatchdogTarget, action: WatchdogAction, state: CheckState): Promise<void> {
    const { check } = target;
    if (action === 'healed') this.#logger.info({ check }, 'watchdog: healthy again');
    if (action === 'recover') {
      this.#logger.error({ check, problem: state.problem }, 'watchdog: wedged, recovering');
      this.options.onRecover?.(check);
      await target.recover().catch((error: unknown) => {
        this.#logger.error({ check, err: (error as Error).message }, 'watchdog: recovery failed');
      });
      this.#states.set(check, { ...state, recoveredAt: this.#now() });
    }
    if (action === 'fatal') {
      this.#logger.error(
        { check, problem: state.problem },
        'watchdog: still wedged after recovery, giving up',
      );
      this.stop();
      this.options.onFatal(`${check}: ${state.problem}`);
    }
  }
}
