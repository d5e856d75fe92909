// The dashboard's JSON API, all behind the bearer token (http-server.ts): the status picture (the same
// snapshot as `pophook status`), dead letters, recent jobs, and replay, which does exactly what
// `pophook dlq replay` does (src/delivery/dead-letters.ts).
import type { Job } from 'bullmq';
import {
  type DeadLetter,
  listDeadLetters,
  type ReplayDeps,
  replayDeadLetter,
  selectDeadLetters,
} from '../delivery/dead-letters.ts';
import type { Logger } from '../telemetry/logger.ts';
import { json, type Route } from './http-server.ts';
import type { Snapshot } from './snapshot.ts';

/** Enough for a screen; the CLI lists them all. */
const DEAD_LETTERS_SHOWN = 200;
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
        const [snapshot, dead] = await Promise.all([
          deps.snapshot(),
          listDeadLetters(deps.ledger, deps.mailboxes),
        ]);
        return json(200, {
          ...snapshot,
          deadLetters: dead.slice(0, DEAD_LETTERS_SHOWN).map(deadLetterView),
          deadLetterCount: dead.length,
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
  ];
}

function deadLetterView(d: DeadLetter) {
  return {
    id: d.webhookId,
    mailbox: d.mailbox,
    uidl: d.uidl,
    since: d.entry.since,
    lastError: d.entry.lastError,
  };
}

async function replay(deps: DashboardDeps, body: unknown) {
  const request = body as { ids?: unknown; all?: unknown };
  const all = request.all === true;
  const ids = Array.isArray(request.ids)
    ? request.ids.filter((id): id is string => typeof id === 'string')
    : [];
  if (!all && ids.length === 0)
    return json(400, { error: 'give "ids": [webhook id or MAILBOX/UIDL, …] or "all": true' });
  const dead = await listDeadLetters(deps.ledger, deps.mailboxes);
  const { found, missing } = all ? { found: dead, missing: [] } : selectDeadLetters(dead, ids);
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
