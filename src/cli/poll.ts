// `pophook poll MAILBOX --once`: one poll session in the foreground, its report as JSON on stdout.
// `pophook poll --dry-run [MAILBOX]`: what the next session of each (or one) mailbox would delete, fetch
// and skip, changing nothing; text, or JSON with --json.
import type { Config, MailboxConfig } from '../config/index.ts';
import { PophookError } from '../errors.ts';
import { type DryRunReport, dryRun } from '../mailbox/dry-run.ts';
import { pollOnce } from '../mailbox/poll-job.ts';
import { createRuntime } from '../runtime/runtime.ts';
import { CONFIG_OPTION, parseCommandLine, UsageError } from './args.ts';
import { formatDryRun } from './dry-run-text.ts';
import type { CliIo } from './io.ts';
import { loadConfigFor } from './shared.ts';

export async function runPoll(argv: string[], io: CliIo): Promise<number> {
  const options = {
    ...CONFIG_OPTION,
    once: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
  } as const;
  const { values, positionals } = parseCommandLine('poll', argv, options, true);
  const dry = values['dry-run'] === true;
  if (dry && values.once) throw new UsageError('pass --once or --dry-run, not both', 'poll');
  if (!dry && !values.once) {
    throw new UsageError(
      'runs one session only: pass --once (or --dry-run to see what one would do)',
      'poll',
    );
  }
  if (positionals.length > 1 || (!dry && positionals.length !== 1)) {
    throw new UsageError(dry ? 'takes at most one MAILBOX id' : 'takes exactly one MAILBOX id', 'poll');
  }
  const { config, logger } = await loadConfigFor('poll', values.config, io, 2);
  const mailboxes =
    positionals[0] === undefined ? Object.values(config.mailboxes) : [find(config, positionals[0])];
  const rt = await createRuntime(config, logger);
  try {
    if (!dry) {
      const report = await pollOnce(rt, mailboxes[0]!);
      io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return 0;
    }
    const reports: DryRunReport[] = [];
    for (const mailbox of mailboxes) reports.push(await dryRun(rt, mailbox));
    io.stdout.write(values.json ? `${JSON.stringify(reports, null, 2)}\n` : formatDryRun(reports));
    return 0;
  } finally {
    await rt.close();
  }
}

function find(config: Config, id: string): MailboxConfig {
  const mailbox = config.mailboxes[id];
  if (!mailbox) {
    throw new PophookError('MAILBOX_UNKNOWN', `no mailbox "${id}" in the config`, {
      details: { known: Object.keys(config.mailboxes) },
    });
  }
  return mailbox;
}
