// The session states of RFC 1939 §3 as the client sees them, and the table of which command may be sent
// in which state. UPDATE is never observable from the client: after QUIT the session is closed.
import type { CommandName } from './commands.ts';
import { Pop3Error } from './errors.ts';
import type { Pop3State } from './types.ts';

const AUTHORIZATION: readonly Pop3State[] = ['authorization'];
const TRANSACTION: readonly Pop3State[] = ['transaction'];
const BOTH: readonly Pop3State[] = ['authorization', 'transaction'];

export const COMMAND_STATES: Readonly<Record<CommandName, readonly Pop3State[]>> = {
  USER: AUTHORIZATION,
  PASS: AUTHORIZATION,
  APOP: AUTHORIZATION,
  AUTH: AUTHORIZATION,
  STLS: AUTHORIZATION, // RFC 2595 §4
  UTF8: AUTHORIZATION, // RFC 6856 §2
  CAPA: BOTH, // RFC 2449 §5
  QUIT: BOTH,
  STAT: TRANSACTION,
  LIST: TRANSACTION,
  UIDL: TRANSACTION,
  RETR: TRANSACTION,
  TOP: TRANSACTION,
  DELE: TRANSACTION,
  RSET: TRANSACTION,
  NOOP: TRANSACTION,
};

export function isAllowed(state: Pop3State, command: CommandName): boolean {
  return COMMAND_STATES[command].includes(state);
}

export function assertAllowed(state: Pop3State, command: CommandName): void {
  if (!isAllowed(state, command)) {
    throw new Pop3Error('POP3_STATE', `${command} is not allowed in the ${state} state`);
  }
}

/**
 * Commands that may be pipelined (RFC 2449 §6.6) behind others. Everything that changes the session's
 * state or security (USER, PASS, AUTH, STLS, UTF8, QUIT) waits for every earlier reply and blocks the
 * commands after it until its own reply came: QUIT behind a RETR once truncated the last message.
 */
const PIPELINABLE: ReadonlySet<CommandName> = new Set<CommandName>([
  'STAT',
  'LIST',
  'UIDL',
  'RETR',
  'TOP',
  'DELE',
  'RSET',
  'NOOP',
  'CAPA',
]);

export function isPipelinable(command: CommandName): boolean {
  return PIPELINABLE.has(command);
}
