// The one home of pino: the root logger that entry points make (workers/, the CLI) and pass down; library
// code only sees the Logger interface. JSON lines, secrets redacted by path on top of the masking done where
// commands and errors are built (STYLE.md "Logging"). On a terminal the lines are pretty-printed
// (pino-pretty, in-process and synchronous); pipes and files get JSON, which is what log shippers want.
import { createRequire } from 'node:module';
import { isatty } from 'node:tty';
import { pino } from 'pino';
import type PinoPretty from 'pino-pretty';
import type { Logger } from './logger.ts';

// OAuth 2.0 credentials (src/oauth) add their secrets and the RFC 6749 form names; object storage its key.
const SECRET_KEYS = [
  'password',
  'accessToken',
  'secret',
  'token',
  'clientSecret',
  'secretAccessKey',
  'refreshToken',
  'privateKey',
  'serviceAccountKey',
  'access_token',
  'refresh_token',
  'client_secret',
  'assertion',
  'client_assertion',
];
const REDACT = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
  'headers.authorization',
  '*.headers.authorization',
];

/**
 * `fd` 1 for services (stdout is their log), 2 for one-shot commands whose stdout is their report.
 * `usePretty` defaults to whether `fd` is a terminal.
 */
// Required on use (synchronously, it is CommonJS): a service logging JSON never loads it.
const loadPretty = (): typeof PinoPretty => createRequire(import.meta.url)('pino-pretty');

export function createRootLogger(level: string, fd: 1 | 2 = 1, usePretty: boolean = isatty(fd)): Logger {
  const destination = usePretty
    ? loadPretty()({ destination: fd, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
    : pino.destination({ fd, sync: true });
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT, censor: '****' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
