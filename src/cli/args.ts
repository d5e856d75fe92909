// Command-line parsing shared by every command: node:util parseArgs in strict mode, with its mistakes
// (unknown option, missing value, stray argument) turned into a UsageError that names the problem and the
// command, so the command exits 2 with its usage.
import { type ParseArgsConfig, parseArgs } from 'node:util';

export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    /** The command whose usage to show; the general usage when absent. */
    readonly command?: string,
  ) {
    super(message);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Every config-driven command takes this. */
export const CONFIG_OPTION = { config: { type: 'string', short: 'c' } } as const satisfies Options;

export function parseCommandLine<O extends Options>(
  command: string,
  argv: string[],
  options: O,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (error) {
    // parseArgs says what was wrong (ERR_PARSE_ARGS_UNKNOWN_OPTION, …_INVALID_OPTION_VALUE, …_UNEXPECTED_POSITIONAL).
    const text = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(text, command);
  }
}

/** A command that names exactly one configured thing (`poll MAILBOX`, `send-test WEBHOOK`). */
export function parseOneId<O extends Options>(command: string, argv: string[], options: O, what: string) {
  const { values, positionals } = parseCommandLine(command, argv, options, true);
  const [id] = positionals;
  if (!id || positionals.length > 1) throw new UsageError(`takes exactly one ${what} id`, command);
  return { values, id };
}
