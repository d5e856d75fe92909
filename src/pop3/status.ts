// Parses one POP3 status line: "+OK text", "-ERR [CODE] text" (RFC 1939 §3, RFC 2449 §8 extended
// response codes) or a SASL continuation "+ base64" (RFC 5034 §4), and turns a negative reply into the
// right coded Pop3Error (RFC 3206: SYS/TEMP, SYS/PERM, AUTH; RFC 2449: IN-USE, LOGIN-DELAY).
import { Pop3Error, type Pop3ErrorCode } from './errors.ts';
import { knownReply } from './known-replies.ts';

export type StatusLine =
  | { kind: 'ok'; text: string; responseCode?: string }
  | { kind: 'err'; text: string; responseCode?: string }
  | { kind: 'continue'; text: string };

// RFC 2449 §8: resp-code = "[" resp-level *("/" resp-level) "]", resp-level = 1*rchar (printable, no "/" or "]").
const RESP_CODE = /^\[([\x21-\x2e\x30-\x5c\x5e-\x7e]+(?:\/[\x21-\x2e\x30-\x5c\x5e-\x7e]+)*)\]\s*/;

function splitResponseCode(text: string): { text: string; responseCode?: string } {
  const match = RESP_CODE.exec(text);
  if (!match) return { text };
  return { text: text.slice(match[0].length), responseCode: match[1]!.toUpperCase() };
}

/** Throws POP3_PROTOCOL for anything that is not a status line. */
export function parseStatusLine(line: Buffer): StatusLine {
  const text = line.toString('utf8');
  const upper = text.slice(0, 4).toUpperCase();
  if (upper === '+OK' || (upper.startsWith('+OK') && upper[3] === ' ')) {
    return { kind: 'ok', ...splitResponseCode(text.slice(4)) };
  }
  if (upper === '-ERR' && (text.length === 4 || text[4] === ' ')) {
    return { kind: 'err', ...splitResponseCode(text.slice(5)) };
  }
  if (text === '+' || text.startsWith('+ ')) return { kind: 'continue', text: text.slice(2) };
  throw new Pop3Error('POP3_PROTOCOL', `unexpected reply line: ${printable(text)}`);
}

/** A bounded, control-free rendering of server text for error messages. */
export function printable(text: string, max = 200): string {
  const clean = text.replace(/[\x00-\x1f\x7f]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

const CODE_FOR_RESPONSE: Record<string, Pop3ErrorCode> = {
  'IN-USE': 'POP3_IN_USE',
  'LOGIN-DELAY': 'POP3_LOGIN_DELAY',
  'SYS/TEMP': 'POP3_SYS_TEMP',
  'SYS/PERM': 'POP3_SYS_PERM',
  AUTH: 'POP3_AUTH_FAILED',
};

/** Commands whose plain -ERR means "credentials rejected" (RFC 3206 §4: servers without AUTH-RESP-CODE). */
const AUTH_COMMANDS = new Set(['PASS', 'APOP', 'AUTH']);

/**
 * The error for a -ERR reply. `maskedCommand` must already have its secrets masked. Response codes are
 * hierarchical (RFC 2449 §8), so "SYS/TEMP/DISK" still maps like SYS/TEMP.
 */
export function errorFromStatus(
  status: { text: string; responseCode?: string },
  maskedCommand: string,
): Pop3Error {
  const verb = maskedCommand.split(' ', 1)[0]!.toUpperCase();
  const byCode = codeFor(status.responseCode, verb);
  const known = knownReply(status.text, byCode, status.responseCode !== undefined);
  const shown = status.responseCode ? `[${status.responseCode}] ` : '';
  const fix = known ? `: ${known.fix}` : '';
  return new Pop3Error(
    known?.code ?? byCode,
    `${maskedCommand} failed: -ERR ${shown}${printable(status.text)}${fix}`,
    {
      command: maskedCommand,
      serverText: status.text,
      ...(status.responseCode ? { responseCode: status.responseCode } : {}),
      ...(known ? { known: known.id } : {}),
    },
  );
}

function codeFor(responseCode: string | undefined, verb: string): Pop3ErrorCode {
  if (responseCode) {
    const levels = responseCode.split('/');
    const two = levels.slice(0, 2).join('/');
    const mapped = CODE_FOR_RESPONSE[two] ?? CODE_FOR_RESPONSE[levels[0]!];
    if (mapped) return mapped;
  }
  return AUTH_COMMANDS.has(verb) ? 'POP3_AUTH_FAILED' : 'POP3_ERR';
}
