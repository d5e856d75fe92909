// `pophook dlq list|replay`: the command-line face of src/delivery/dead-letters.ts (listing and replay,
// shared with the dashboard).
import {
  type DeadLetter,
  listDeadLetters,
  replayDeadLetter,
  selectDeadLetters,
} from '../delivery/dead-letters.ts';
import { createRuntime } from '../runtime/runtime.ts';
import { CONFIG_OPTION, parseCommandLine, UsageError } from './args.ts';
import type { CliIo } from './io.ts';
import { loadConfigFor } from './shared.ts';

const REPLAY_TEXT = {
  queued: 'queued for delivery',
  forgotten: 'forgotten: the next poll retrieves it again',
} as const;

export async function runDlq(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(
    'dlq',
    argv,
    { ...CONFIG_OPTION, all: { type: 'boolean' }, json: { type: 'boolean' } },
    true,
  );
  const [action, ...ids] = positionals;
  if (action !== 'list' && action !== 'replay') throw new UsageError('takes "list" or "replay"', 'dlq');
  if (action === 'list' && (ids.length > 0 || values.all)) {
    throw new UsageError('list takes no ids and no --all', 'dlq');
  }
  if (action === 'replay' && !values.all && ids.length === 0) {
    throw new UsageError('replay takes dead-letter ids (msg_… or MAILBOX/UIDL) or --all', 'dlq');
  }
  if (action === 'replay' && values.all && ids.length > 0) {
    throw new UsageError('replay takes ids or --all, not both', 'dlq');
  }
  const { config, logger } = await loadConfigFor('dlq', values.config, io, 2);
  const rt = await createRuntime(config, logger);
  try {
    const dead = await listDeadLetters(rt.deliverState.ledger, config.mailboxes);
    if (action === 'list') {
      printList(dead, io, Boolean(values.json));
      return 0;
    }
    const { found, missing } = values.all ? { found: dead, missing: [] } : selectDeadLetters(dead, ids);
    for (const id of missing) io.stderr.write(`pophook: no dead letter "${id}" (see 'pophook dlq list')\n`);
    if (missing.length > 0) return 1;
    const deps = { ...rt.deliverState, queues: rt.queues, mailboxes: config.mailboxes };
    for (const letter of found) {
      const how = await replayDeadLetter(deps, letter);
      io.stdout.write(`${letter.webhookId} ${letter.mailbox}/${letter.uidl}: ${REPLAY_TEXT[how]}\n`);
    }
    io.stdout.write(`replayed ${found.length} dead letter(s)\n`);
    return 0;
  } finally {
    await rt.close();
  }
}

function printList(dead: DeadLetter[], io: CliIo, json: boolean): void {
  if (json) {
    io.stdout.write(`${JSON.stringify(dead, null, 2)}\n`);
    return;
  }
  for (const d of dead) {
    const error = d.entry.lastError;
    const why = error ? `${error.code}${error.status ? ` ${error.status}` : ''}: ${error.reason ?? ''}` : '';
    io.stdout.write(
      `${d.webhookId}  ${d.mailbox}/${d.uidl}  since ${new Date(d.entry.since).toISOString()}  ${why}\n`,
    );
  }
  io.stdout.write(`${dead.length} dead letter(s)\n`);
}
