// The dashboard's JSON API, all behind the bearer token (http-server.ts): the status picture (the same
// snapshot as `pophook status`), dead letters with their message and the receiver's answer, deliveries
// waiting on backoff, recent jobs; replay, which does exactly what `pophook dlq replay` does
// (src/delivery/dead-letters.ts), and retry-now, exactly `pophook retry now` (src/queue/delayed-deliveries.ts).
import type { Job } from 'bullmq';
import {
  type DeadLetterDetails,
  describeDeadLetter,
  listDeadLetters,
  type ReplayDeps,
  replayDeadLetter,
  selectDeadLetters,
} from '../delivery/dead-letters.ts';
import { listDelayedDeliveries, retryAllNow, retryNow } from '../queue/delayed-deliveries.ts';
import type { Logger } from '../telemetry/logger.ts';
import { json, type Route } from './http-server.ts';
import type { Snapshot } from './snapshot.ts';

/** Enough for a screen; the CLI lists them all. */
const DEAD_LETTERS_SHOWN = 200;
const DELAYED_SHOWN = 100;
const JOBS_PER_STATE = 10;
const JOB_STATES = ['active', 'waiting', 'delayed', 'failed'] as const;

export interface DashboardDeps extends ReplayDeps {
  snapshot(): Promise<Snapshot>;
  /** Current watchdog problems by check. */
  problems(): ReadonlyMap<string, string>;
  logger: Logger;
}

export interface JobView {
  queue: string;
  state: (typeof JOB_STATES)[number];
  id: string;
  mailbox?: string;
  uidl?: string;
  attemptsMade: number;
  failedReason?: string;
  timestamp: number;
}

export function dashboardApiRoutes(deps: DashboardDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/status',
      auth: true,
      handle: async () => {
        const [snapshot, dead, delayed] = await Promise.all([
          deps.snapshot(),
          listDeadLetters(deps.ledger, deps.mailboxes),
          listDelayedDeliveries(deps.queues, DELAYED_SHOWN),
        ]);
        const shown = await Promise.all(
          dead.slice(0, DEAD_LETTERS_SHOWN).map((d) => describeDeadLetter(deps.raw, d)),
        );
        return json(200, {
          ...snapshot,
          deadLetters: shown.map(deadLetterView),
          deadLetterCount: dead.length,
          waitingOnBackoff: delayed.deliveries,
          waitingOnBackoffCount: delayed.total,
          watchdog: Object.fromEntries(deps.problems()),
        });
      },
    },
    { method: 'GET', path: '/api/jobs', auth: true, handle: async () => json(200, await recentJobs(deps)) },
    {
      method: 'POST',
      path: '/api/dead-letters/replay',
      auth: true,
      handle: ({ body }) => replay(deps, body),
    },
    {
      method: 'POST',
      path: '/api/deliveries/retry-now',
      auth: true,
      handle: ({ body }) => retry(deps, body),
    },
  ];
}

function deadLetterView(d: DeadLetterDetails) {
  return {
    id: d.webhookId,
    mailbox: d.mailbox,
    uidl: d.uidl,
    since: d.entry.since,
    subject: d.subject,
    from: d.from,
    date: d.date,
    size: d.size,
    attempts: d.entry.attempts,
    lastError: d.entry.lastError,
  };
}

/** `{ ids: [...] }` or `{ all: true }`, as replay and retry-now take them; undefined when neither. */
function selection(body: unknown): { all: true } | { all: false; ids: string[] } | undefined {
  const request = body as { ids?: unknown; all?: unknown } | null;
  if (request?.all === true) return { all: true };
  const ids = Array.isArray(request?.ids)
    ? request.ids.filter((id): id is string => typeof id === 'string')
    : [];
  return ids.length > 0 ? { all: false, ids } : undefined;
}

const SELECTION_HINT = 'give "ids": [webhook id or MAILBOX/UIDL, …] or "all": true';

async function retry(deps: DashboardDeps, body: unknown) {
  const chosen = selection(body);
  if (!chosen) return json(400, { error: SELECTION_HINT });
  if (chosen.all) {
    const count = await retryAllNow(deps.queues);
    deps.logger.info({ retried: count, via: 'dashboard' }, 'deliveries retried now');
    return json(200, { retried: count });
  }
  const results = [];
  for (const id of chosen.ids) results.push({ id, result: await retryNow(deps.queues, id) });
  deps.logger.info({ retried: results.length, via: 'dashboard' }, 'deliveries retried now');
  return json(200, { retried: results });
}

async function replay(deps: DashboardDeps, body: unknown) {
  const chosen = selection(body);
  if (!chosen) return json(400, { error: SELECTION_HINT });
  const dead = await listDeadLetters(deps.ledger, deps.mailboxes);
  const { found, missing } = chosen.all ? { found: dead, missing: [] } : selectDeadLetters(dead, chosen.ids);
  if (missing.length > 0) return json(404, { error: 'no such dead letter', missing });
  const results = [];
  for (const letter of found) {
    results.push({ id: letter.webhookId, result: await replayDeadLetter(deps, letter) });
  }
  deps.logger.info({ replayed: results.length, via: 'dashboard' }, 'dead letters replayed');
  return json(200, { replayed: results });
}

async function recentJobs(deps: DashboardDeps): Promise<JobView[]> {
  const queues = [deps.queues.poll, ...deps.queues.deliverShards];
  const lists = await Promise.all(
    queues.flatMap((queue) =>
      JOB_STATES.map(async (state) => {
        const jobs = (await queue.getJobs([state], 0, JOBS_PER_STATE - 1)) as Array<Job | undefined>;
        return jobs
          .filter((job): job is Job => job !== undefined)
          .map((job) => jobView(queue.name, state, job));
      }),
    ),
  );
  return lists.flat();
}

function jobView(queue: string, state: JobView['state'], job: Job): JobView {
  const data = job.data as { mailbox?: string; uidl?: string };
  return {
    queue,
    state,
    id: job.id ?? '',
    ...(data.mailbox === undefined ? {} : { mailbox: data.mailbox }),
    ...(data.uidl === undefined ? {} : { uidl: data.uidl }),
    attemptsMade: job.attemptsMade,
    ...(job.failedReason ? { failedReason: job.failedReason } : {}),
    timestamp: job.timestamp,
  };
}
