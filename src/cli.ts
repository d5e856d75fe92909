// The pophook command: parses the command line and hands each command to its module. Long-running
// commands (run, scheduler, worker) live in workers/; one-shot commands in src/cli/.
import { parseArgs } from 'node:util';
import { runCheck } from './cli/check.ts';
import { runDlq } from './cli/dlq.ts';
import { commandHelp, USAGE } from './cli/help.ts';
import type { CliIo } from './cli/io.ts';
import { runPoll } from './cli/poll.ts';
import { runProbe } from './cli/probe.ts';
import { loadConfigFor, reportError, UsageError } from './cli/shared.ts';
import { runStatus } from './cli/status.ts';

type Role = 'scheduler' | 'poll' | 'deliver';

const SERVICE_ROLES: Record<string, (argv: string[]) => Role[]> = {
  run: () => ['scheduler', 'poll', 'deliver'],
  scheduler: () => ['scheduler'],
  worker: (argv) => {
    const { values } = parseArgs({ args: argv, options: { role: { type: 'string' } }, strict: false });
    const role = values.role ?? 'all';
    if (role === 'all') return ['poll', 'deliver'];
    if (role === 'poll' || role === 'deliver') return [role];
    throw new UsageError(`--role must be poll, deliver or all (got "${String(role)}")`);
  },
};

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    const help = commandHelp(command);
    if (help && command !== 'probe') {
      io.stdout.write(help);
      return 0;
    }
  }
  try {
    switch (command) {
      case 'probe':
        return await runProbe(rest, io);
      case 'check':
        return await runCheck(rest, io);
      case 'poll':
        return await runPoll(rest, io);
      case 'dlq':
        return await runDlq(rest, io);
      case 'status':
        return await runStatus(rest, io);
      default:
        break;
    }
    const roles = SERVICE_ROLES[command];
    if (!roles) throw new UsageError(`unknown command "${command}"`);
    const wanted = roles(rest);
    const { config, logger } = await loadConfigFor(rest, io);
    const { runService } = await import('../workers/service.ts');
    return await runService(new Set(wanted), config, logger);
  } catch (error) {
    return reportError(error, io);
  }
}
