// `pophook dlq list|replay`: dead letters are ledger entries in state `dead`; their messages are still on
// the POP3 server and their raw bytes in Redis. Replay queues a fresh deliver job with a fresh retry
// period; a message dead for being over maxMessageSize is instead forgotten, so the next poll looks at it
// again under the current maxMessageSize.
import { parseArgs } from 'node:util';
import type { Config } from '../config/index.ts';
import type { LedgerEntry } from '../ledger/index.ts';
import { webhookIdFor } from '../queue/ids.ts';
import type { CliIo } from './io.ts';
import { loadConfigFor, UsageError } from './shared.ts';

interface DeadLetter {
  mailbox: string;
  uidl: string;
  webhookId: string;
  entry: LedgerEntry;
}

export async function runDlq(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { config: { type: 'string', short: 'c' }, all: { type: 'boolean' }, json: { type: 'boolean' } },
    allowPositionals: true,
  });
  const [action, ...ids] = positionals;
  if (action !== 'list' && action !== 'replay') throw new UsageError('dlq takes "list" or "replay"');
  if (action === 'replay' && !values.all && ids.length === 0) {
    throw new UsageError('dlq replay takes dead-letter ids (msg_… or MAILBOX/UIDL) or --all');
  }
  const { config, logger } = await loadConfigFor(argv, io, 2);
  const { createRuntime } = await import('../../workers/runtime.ts');
  const rt = await createRuntime(config, logger);
  try {
    const dead = await listDeadLetters(rt.deliverState.ledger, config);
    if (action === 'list') {
      printList(dead, io, Boolean(values.json));
      return 0;
    }
    const wanted = values.all ? dead : selectDeadLetters(dead, ids, io);
    if (!wanted) return 1;
    for (const letter of wanted) {
      const how = await replayDeadLetter(rt, letter);
      io.stdout.write(`${letter.webhookId} ${letter.mailbox}/${letter.uidl}: ${how}\n`);
    }
    io.stdout.write(`replayed ${wanted.length} dead letter(s)\n`);
    return 0;
  } finally {
    await rt.close();
  }
}

async function listDeadLetters(
  ledger: { listDead(mailbox: string): Promise<Array<{ uidl: string; entry: LedgerEntry }>> },
  config: Config,
): Promise<DeadLetter[]> {
  const all: DeadLetter[] = [];
  for (const mailbox of Object.keys(config.mailboxes)) {
    for (const { uidl, entry } of await ledger.listDead(mailbox)) {
      all.push({ mailbox, uidl, entry, webhookId: webhookIdFor(mailbox, uidl) });
    }
  }
  return all;
}

function selectDeadLetters(dead: DeadLetter[], ids: string[], io: CliIo): DeadLetter[] | undefined {
  const picked: DeadLetter[] = [];
  for (const id of ids) {
    const found = dead.find((d) => d.webhookId === id || `${d.mailbox}/${d.uidl}` === id);
    if (!found) {
      io.stderr.write(`pophook: no dead letter "${id}" (see 'pophook dlq list')\n`);
      return undefined;
    }
    picked.push(found);
  }
  return picked;
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

type ReplayRuntime = Awaited<ReturnType<typeof import('../../workers/runtime.ts').createRuntime>>;

async function replayDeadLetter(rt: ReplayRuntime, letter: DeadLetter): Promise<string> {
  const { ledger, raw } = rt.deliverState;
  const mailbox = rt.config.mailboxes[letter.mailbox]!;
  const size = await raw.size(letter.mailbox, letter.uidl);
  if (letter.entry.lastError?.code === 'MESSAGE_TOO_LARGE' || size === null) {
    await ledger.forgetIf(letter.mailbox, letter.uidl, 'dead');
    return 'forgotten: the next poll retrieves it again';
  }
  const previous = await rt.queues.deliver.getJob(letter.webhookId);
  if (previous) await previous.remove();
  await ledger.markQueued(letter.mailbox, letter.uidl, { size, webhookId: letter.webhookId, replay: true });
  const now = new Date();
  await rt.queues.enqueueDelivery({
    mailbox: letter.mailbox,
    uidl: letter.uidl,
    webhookId: letter.webhookId,
    webhook: mailbox.webhook,
    size,
    queuedAt: now.getTime(),
    receivedAt: now.toISOString(),
  });
  return 'queued for delivery';
}
