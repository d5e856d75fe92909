// `pophook poll MAILBOX --once`: one poll session in the foreground, its report as JSON on stdout.
import { PophookError } from '../errors.ts';
import { pollOnce } from '../mailbox/poll-job.ts';
import { createRuntime } from '../runtime/runtime.ts';
import { CONFIG_OPTION, parseOneId, UsageError } from './args.ts';
import type { CliIo } from './io.ts';
import { loadConfigFor } from './shared.ts';

export async function runPoll(argv: string[], io: CliIo): Promise<number> {
  const { values, id: mailboxId } = parseOneId(
    'poll',
    argv,
    { ...CONFIG_OPTION, once: { type: 'boolean' } },
    'MAILBOX',
  );
  if (!values.once) throw new UsageError('runs one session only: pass --once', 'poll');
  const { config, logger } = await loadConfigFor('poll', values.config, io, 2);
  const mailbox = config.mailboxes[mailboxId];
  if (!mailbox) {
    throw new PophookError('MAILBOX_UNKNOWN', `no mailbox "${mailboxId}" in the config`, {
      details: { known: Object.keys(config.mailboxes) },
    });
  }
  const rt = await createRuntime(config, logger);
  try {
    const report = await pollOnce(rt, mailbox);
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  } finally {
    await rt.close();
  }
}
