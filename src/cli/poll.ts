// `pophook poll MAILBOX --once`: one poll session in the foreground, its report as JSON on stdout.
import { parseArgs } from 'node:util';
import { PophookError } from '../errors.ts';
import type { CliIo } from './io.ts';
import { loadConfigFor, UsageError } from './shared.ts';

export async function runPoll(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { config: { type: 'string', short: 'c' }, once: { type: 'boolean' } },
    allowPositionals: true,
  });
  const [mailboxId] = positionals;
  if (!mailboxId || positionals.length > 1) throw new UsageError('poll takes exactly one MAILBOX id');
  if (!values.once) throw new UsageError('poll runs one session only: pass --once');
  const { config, logger } = await loadConfigFor(argv, io, 2);
  const mailbox = config.mailboxes[mailboxId];
  if (!mailbox) {
    throw new PophookError('MAILBOX_UNKNOWN', `no mailbox "${mailboxId}" in the config`, {
      details: { known: Object.keys(config.mailboxes) },
    });
  }
  const { createRuntime } = await import('../../workers/runtime.ts');
  const { pollOnce } = await import('../../workers/poll-worker.ts');
  const rt = await createRuntime(config, logger);
  try {
    const report = await pollOnce(rt, mailbox);
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  } finally {
    await rt.close();
  }
}
