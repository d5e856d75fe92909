// Encodes POP3 commands (RFC 1939 §3: keyword, single spaces, arguments, CRLF), refusing argument bytes
// that would let a caller inject a second command (CR, LF, NUL), and produces the masked form that logs,
// errors and transcripts show instead of the real line.
import { Pop3Error } from './errors.ts';

export type CommandName =
  | 'USER'
  | 'PASS'
  | 'APOP'
  | 'AUTH'
  | 'CAPA'
  | 'STLS'
  | 'UTF8'
  | 'STAT'
  | 'LIST'
  | 'UIDL'
  | 'RETR'
  | 'TOP'
  | 'DELE'
  | 'RSET'
  | 'NOOP'
  | 'QUIT';

export interface EncodedCommand {
  readonly name: CommandName;
  /** The exact bytes to write, CRLF included. */
  readonly bytes: Buffer;
  /** What may be shown: the line without CRLF, secrets replaced by "****". */
  readonly masked: string;
  /** True when a +OK to this command is followed by a dot-terminated body. */
  readonly multiline: boolean;
}

export const MASK = '****';

/** Index of the first argument that is a secret (it and everything after it are masked). */
const SECRET_FROM: Partial<Record<CommandName, number>> = { PASS: 0, APOP: 1, AUTH: 1 };

const FORBIDDEN = /[\r\n\0]/;

export function checkArgument(arg: string): void {
  if (FORBIDDEN.test(arg)) {
    // The argument itself is never echoed: it may be a password.
    throw new Pop3Error('POP3_BAD_ARGUMENT', 'command argument contains CR, LF or NUL');
  }
}

/** RFC 1939 message numbers are positive; we also require a safe integer. */
export function checkMessageNumber(msg: number): void {
  if (!Number.isSafeInteger(msg) || msg < 1) {
    throw new Pop3Error('POP3_BAD_ARGUMENT', `message number must be a positive integer, got ${String(msg)}`);
  }
}

function isMultiline(name: CommandName, argCount: number): boolean {
  if (name === 'LIST' || name === 'UIDL') return argCount === 0;
  return name === 'CAPA' || name === 'RETR' || name === 'TOP';
}

export function encodeCommand(name: CommandName, args: ReadonlyArray<string | number> = []): EncodedCommand {
  const words = args.map((arg) => {
    const word = String(arg);
    checkArgument(word);
    if (word.length === 0 || word.includes(' ')) {
      throw new Pop3Error('POP3_BAD_ARGUMENT', `${name} arguments must be non-empty and contain no spaces`);
    }
    return word;
  });
  const line = [name, ...words].join(' ');
  const secretFrom = SECRET_FROM[name];
  const masked =
    secretFrom === undefined || words.length <= secretFrom
      ? line
      : [name, ...words.slice(0, secretFrom), MASK].join(' ');
  return {
    name,
    bytes: Buffer.from(`${line}\r\n`, 'utf8'),
    masked,
    multiline: isMultiline(name, words.length),
  };
}

/** A SASL continuation answer (RFC 5034 §4): base64, or "*" to cancel. Always masked as a whole. */
export function encodeSaslLine(payload: string): { bytes: Buffer; masked: string } {
  checkArgument(payload);
  return { bytes: Buffer.from(`${payload}\r\n`, 'ascii'), masked: payload === '*' ? '*' : MASK };
}
