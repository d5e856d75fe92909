// The one home of pino: the root logger that entry points make (workers/, the CLI) and pass down; library
// code only sees the Logger interface. JSON lines, secrets redacted by path on top of the masking done where
// commands and errors are built (STYLE.md "Logging").
import { pino } from 'pino';
import type { Logger } from './logger.ts';

const REDACT = [
  'password',
  'accessToken',
  'secret',
  'token',
  '*.password',
  '*.accessToken',
  '*.secret',
  '*.token',
  'headers.authorization',
  '*.headers.authorization',
];

/** `fd` 1 for services (stdout is their log), 2 for one-shot commands whose stdout is their report. */
export function createRootLogger(level: string, fd: 1 | 2 = 1): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT, censor: '****' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ fd, sync: true }),
  );
}
