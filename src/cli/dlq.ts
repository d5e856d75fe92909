// `pophook dlq list|show|replay`: the command-line face of src/delivery/dead-letters.ts (listing, details
// and replay, shared with the dashboard). `replay --wait` follows each replayed delivery in the ledger
// until it is delivered, dead again, or `--timeout` has passed; exit 1 unless all were delivered.
import { parseDuration } from '../config/index.ts';
import {
  type DeadLetter,
  describeDeadLetter,
  listDeadLetters,
  replayDeadLetter,
  selectDeadLetters,
} from '../delivery/dead-letters.ts';
import { awaitReplayOutcome } from '../delivery/replay-wait.ts';
import { createRuntime, type Runtime } from '../runtime/runtime.ts';
import { CONFIG_OPTION, parseCommandLine, UsageError } from './args.ts';
import { formatDeadLetter, formatDeadLetters, formatOutcome, formatReplayed } from './dlq-text.ts';
import type { CliIo } from './io.ts';
import { loadConfigFor } from './shared.ts';

const ACTIONS = ['list', 'show', 'replay'] as const;
type Action = (typeof ACTIONS)[number];
const DEFAULT_WAIT = '2m';

const OPTIONS = {
  ...CONFIG_OPTION,
  all: { type: 'boolean' },
  json: { type: 'boolean' },
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
} as const;

export async function runDlq(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine('dlq', argv, OPTIONS, true);
  const [action, ...ids] = positionals;
  const timeoutMs = checkArguments(action, ids, values);
  const { config, logger } = await loadConfigFor('dlq', values.config, io, 2);
  const rt = await createRuntime(config, logger);
  try {
    const dead = await listDeadLetters(rt.deliverState.ledger, config.mailboxes);
    if (action === 'list') {
      const details = await Promise.all(dead.map((d) => describeDeadLetter(rt.deliverState.raw, d)));
      io.stdout.write(
        values.json ? `${JSON.stringify(details, null, 2)}\n` : formatDeadLetters(details, Date.now()),
      );
      return 0;
    }
    const { found, missing } = values.all ? { found: dead, missing: [] } : selectDeadLetters(dead, ids);
    for (const id of missing) io.stderr.write(`pophook: no dead letter "${id}" (see 'pophook dlq list')\n`);
    if (missing.length > 0) return 1;
    if (action === 'show') {
      const details = await Promise.all(
        found.map((d) => describeDeadLetter(rt.deliverState.raw, d, { headers: true })),
      );
      const text = details.map((d) => formatDeadLetter(d, Date.now())).join('\n');
      io.stdout.write(values.json ? `${JSON.stringify(details, null, 2)}\n` : text);
      return 0;
    }
    return await replay(rt, found, timeoutMs, io);
  } finally {
    await rt.close();
  }
}

/** Usage errors before anything is started; returns the wait timeout when `--wait` was given. */
function checkArguments(
  action: string | undefined,
  ids: string[],
  values: { all?: boolean; json?: boolean; wait?: boolean; timeout?: string },
): number | undefined {
  if (!ACTIONS.includes(action as Action)) throw new UsageError('takes "list", "show" or "replay"', 'dlq');
  if (action === 'list' && (ids.length > 0 || values.all)) {
    throw new UsageError('list takes no ids and no --all', 'dlq');
  }
  if (action !== 'list' && !values.all && ids.length === 0) {
    throw new UsageError(`${action} takes dead-letter ids (msg_… or MAILBOX/UIDL) or --all`, 'dlq');
  }
  if (values.all && ids.length > 0) throw new UsageError(`${action} takes ids or --all, not both`, 'dlq');
  if (action !== 'replay' && (values.wait || values.timeout !== undefined)) {
    throw new UsageError('--wait and --timeout belong to replay', 'dlq');
  }
  if (action === 'replay' && values.json) throw new UsageError('replay has no --json', 'dlq');
  if (values.timeout !== undefined && !values.wait) throw new UsageError('--timeout needs --wait', 'dlq');
  if (!values.wait) return undefined;
  try {
    return parseDuration(values.timeout ?? DEFAULT_WAIT);
  } catch {
    throw new UsageError(`--timeout takes a duration such as 30s or 5m (got "${values.timeout}")`, 'dlq');
  }
}

async function replay(rt: Runtime, found: DeadLetter[], timeoutMs: number | undefined, io: CliIo) {
  const deps = { ...rt.deliverState, queues: rt.queues, mailboxes: rt.config.mailboxes };
  const replayed = [];
  for (const letter of found) {
    const how = await replayDeadLetter(deps, letter);
    io.stdout.write(formatReplayed(letter, how));
    replayed.push({ letter, how });
  }
  io.stdout.write(`replayed ${found.length} dead letter(s)\n`);
  if (timeoutMs === undefined) return 0;
  const outcomes = await Promise.all(
    replayed.map(async ({ letter, how }) => {
      const outcome = await awaitReplayOutcome(rt.deliverState.ledger, letter, how, { timeoutMs });
      io.stdout.write(formatOutcome(letter, outcome));
      return outcome.outcome;
    }),
  );
  const count = (o: string) => outcomes.filter((x) => x === o).length;
  io.stdout.write(
    `${count('delivered')} delivered, ${count('dead')} dead again, ${count('timeout')} timed out\n`,
  );
  return outcomes.every((o) => o === 'delivered') ? 0 : 1;
}
