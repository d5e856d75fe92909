// The scheduler role: keeps one BullMQ job scheduler per configured mailbox (upserted at start, removed
// for mailboxes gone from the config) and re-asserts them every minute, since job schedulers have been
// seen to stop producing (DESIGN.md "Known traps"). Any number of scheduler processes may run: upserts
// are idempotent and the schedulers live in Redis, so polls are not duplicated.
import type { Runtime } from '../src/runtime/runtime.ts';

const RESYNC_EVERY_MS = 60_000;

export interface Scheduler {
  close(): Promise<void>;
}

export async function startScheduler(rt: Runtime): Promise<Scheduler> {
  const mailboxes = Object.values(rt.config.mailboxes);
  const sync = async () => {
    await rt.queues.syncSchedules(mailboxes);
    rt.logger.debug({ mailboxes: mailboxes.length }, 'poll schedules in place');
  };
  await sync();
  rt.logger.info({ mailboxes: mailboxes.map((m) => m.id) }, 'scheduler started');
  const timer = setInterval(() => {
    sync().catch((error: Error) => {
      if (!rt.outage.report(error)) rt.logger.warn({ err: error.message }, 'schedule sync failed');
    });
  }, RESYNC_EVERY_MS);
  timer.unref();
  return {
    async close() {
      clearInterval(timer);
    },
  };
}
