// What the config-driven commands share: finding and loading the config, the root logger, and turning
// an error into a message on stderr and an exit code.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Config, loadConfig } from '../config/index.ts';
import { isPophookError } from '../errors.ts';
import { isPop3Error } from '../pop3/index.ts';
import type { Logger } from '../telemetry/logger.ts';
import { createRootLogger } from '../telemetry/root-logger.ts';
import { UsageError } from './args.ts';
import { commandHelp, USAGE } from './help.ts';
import type { CliIo } from './io.ts';

/** Used when neither --config nor POPHOOK_CONFIG names a file, if it exists. */
export const DEFAULT_CONFIG_FILE = 'pophook.yml';

/**
 * The config file: `--config`, else POPHOOK_CONFIG, else ./pophook.yml when it exists. What is said
 * explicitly wins over what happens to lie in the working directory (a container sets POPHOOK_CONFIG and
 * must not be overridden by a stray file).
 */
export function configPath(command: string, given: string | undefined, io: CliIo): string {
  const path = given ?? io.env.POPHOOK_CONFIG;
  if (path) return path;
  const fallback = resolve(io.cwd ?? '.', DEFAULT_CONFIG_FILE);
  if (existsSync(fallback)) return fallback;
  throw new UsageError(
    `no configuration: pass --config FILE, set POPHOOK_CONFIG, or create ./${DEFAULT_CONFIG_FILE}`,
    command,
  );
}

/** Services log to stdout (fd 1); one-shot commands to stderr (fd 2), since their stdout is the report. */
export async function loadConfigFor(
  command: string,
  given: string | undefined,
  io: CliIo,
  logFd: 1 | 2 = 1,
): Promise<{ config: Config; logger: Logger }> {
  const config = await loadConfig(configPath(command, given, io), io.env);
  const logger = createRootLogger(io.env.LOG_LEVEL ?? config.log.level, logFd);
  return { config, logger };
}

/**
 * Prints a failure for a person: the stable code and the message (for CONFIG_INVALID, every issue with its
 * path, once). A wrong command line also gets the usage, on stderr, so scripts that read stdout see nothing.
 */
export function reportError(error: unknown, io: CliIo): number {
  if (error instanceof UsageError) {
    const usage = (error.command && commandHelp(error.command)) || USAGE;
    io.stderr.write(`pophook${error.command ? ` ${error.command}` : ''}: ${error.message}\n\n${usage}`);
    return 2;
  }
  if (isPophookError(error)) {
    // CONFIG_INVALID's message already lists every issue, one per line, so it is printed as it is.
    io.stderr.write(`pophook: ${error.code}: ${error.message}\n`);
    return 1;
  }
  if (isPop3Error(error)) {
    const reply = error.serverText ? ` (server said: ${error.serverText})` : '';
    io.stderr.write(`pophook: ${error.code}: ${error.message}${reply}\n`);
    return 1;
  }
  io.stderr.write(`pophook: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}
