// `pophook retry list|now`: deliveries waiting on backoff (their webhook failed and BullMQ holds the job
// until the next attempt) and attempting them at once, e.g. once the receiver is fixed. The command-line
// face of src/queue/delayed-deliveries.ts, shared with the dashboard. Exit 1 when an id names no
// delivery waiting on backoff.
import { listDelayedDeliveries, retryAllNow, retryNow } from '../queue/delayed-deliveries.ts';
import { createRuntime } from '../runtime/runtime.ts';
import { CONFIG_OPTION, parseCommandLine, UsageError } from './args.ts';
import { formatDelayed } from './dlq-text.ts';
import type { CliIo } from './io.ts';
import { loadConfigFor } from './shared.ts';

/** A screen's worth is the point of the text form; --json lists this many too. */
const LISTED = 1000;

const RESULT_TEXT = {
  promoted: 'attempted now',
  'not-waiting': 'not waiting on backoff (being attempted, or no longer retried)',
  missing: 'no such delivery',
} as const;

export async function runRetry(argv: string[], io: CliIo): Promise<number> {
  const options = { ...CONFIG_OPTION, all: { type: 'boolean' }, json: { type: 'boolean' } } as const;
  const { values, positionals } = parseCommandLine('retry', argv, options, true);
  const [action, ...ids] = positionals;
  if (action !== 'list' && action !== 'now') throw new UsageError('takes "list" or "now"', 'retry');
  if (action === 'list' && (ids.length > 0 || values.all)) {
    throw new UsageError('list takes no ids and no --all', 'retry');
  }
  if (action === 'now' && (values.all ? ids.length > 0 : ids.length === 0)) {
    throw new UsageError('now takes delivery ids (msg_… or MAILBOX/UIDL) or --all, not both', 'retry');
  }
  if (action === 'now' && values.json) throw new UsageError('now has no --json', 'retry');
  const { config, logger } = await loadConfigFor('retry', values.config, io, 2);
  const rt = await createRuntime(config, logger);
  try {
    if (action === 'list') {
      const { deliveries, total } = await listDelayedDeliveries(rt.queues, LISTED);
      io.stdout.write(
        values.json
          ? `${JSON.stringify({ total, deliveries }, null, 2)}\n`
          : formatDelayed(deliveries, total, Date.now()),
      );
      return 0;
    }
    if (values.all) {
      io.stdout.write(`${await retryAllNow(rt.queues)} delivery(ies) attempted now\n`);
      return 0;
    }
    let failed = 0;
    for (const id of ids) {
      const result = await retryNow(rt.queues, id);
      if (result !== 'promoted') failed += 1;
      (result === 'promoted' ? io.stdout : io.stderr).write(`${id}: ${RESULT_TEXT[result]}\n`);
    }
    return failed === 0 ? 0 : 1;
  } finally {
    await rt.close();
  }
}
