// The pophook command: parses the command line and hands each command to its module. One-shot commands
// live in src/cli/; the long-running ones (run, scheduler, worker) are handed to the service runner the
// entry point passes in (workers/main.ts), so src/ never depends on workers/.

import { CONFIG_OPTION, parseCommandLine, UsageError } from './cli/args.ts';
import { commandHelp, USAGE } from './cli/help.ts';
import type { CliIo } from './cli/io.ts';
import { loadConfigFor, reportError } from './cli/shared.ts';
import { packageVersion } from './cli/version.ts';
import type { Config } from './config/index.ts';
import { isServiceCommand, type Role, SERVICE_COMMANDS, WORKER_ROLES } from './runtime/roles.ts';
import type { Logger } from './telemetry/logger.ts';

/** Runs a long-running process with these roles until it is stopped; resolves to the exit code. */
export type ServiceRunner = (roles: ReadonlySet<Role>, config: Config, logger: Logger) => Promise<number>;

type OneShot = (argv: string[], io: CliIo) => Promise<number>;

// Loaded on use: a command pays only for its own modules (start-up CPU, docs/performance.md).
const ONE_SHOT: Record<string, () => Promise<OneShot>> = {
  probe: async () => (await import('./cli/probe.ts')).runProbe,
  check: async () => (await import('./cli/check.ts')).runCheck,
  poll: async () => (await import('./cli/poll.ts')).runPoll,
  dlq: async () => (await import('./cli/dlq.ts')).runDlq,
  retry: async () => (await import('./cli/retry.ts')).runRetry,
  status: async () => (await import('./cli/status.ts')).runStatus,
  'send-test': async () => (await import('./cli/send-test.ts')).runSendTest,
};

export async function runCli(argv: string[], io: CliIo, runService: ServiceRunner): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  // Before any parsing, so it works with every command and whatever else is on the line.
  if (argv.includes('--version') || argv.includes('-V')) {
    io.stdout.write(`pophook ${packageVersion()}\n`);
    return 0;
  }
  const help = commandHelp(command);
  if (help && (rest.includes('--help') || rest.includes('-h'))) {
    io.stdout.write(help);
    return 0;
  }
  try {
    const oneShot = Object.hasOwn(ONE_SHOT, command) ? ONE_SHOT[command] : undefined;
    if (oneShot) return await (await oneShot())(rest, io);
    if (!isServiceCommand(command)) throw new UsageError(`unknown command "${command}"`);
    const roles = serviceRoles(command, rest);
    const { config, logger } = await loadConfigFor(command, roles.config, io);
    return await runService(new Set(roles.roles), config, logger);
  } catch (error) {
    return reportError(error, io);
  }
}

function serviceRoles(command: keyof typeof SERVICE_COMMANDS, argv: string[]) {
  if (command !== 'worker') {
    const { values } = parseCommandLine(command, argv, CONFIG_OPTION);
    return { config: values.config, roles: SERVICE_COMMANDS[command] };
  }
  const { values } = parseCommandLine(command, argv, { ...CONFIG_OPTION, role: { type: 'string' } });
  const role = values.role ?? 'all';
  if (!Object.hasOwn(WORKER_ROLES, role)) {
    throw new UsageError(`--role must be poll, deliver or all (got "${role}")`, command);
  }
  return { config: values.config, roles: WORKER_ROLES[role as keyof typeof WORKER_ROLES] };
}
