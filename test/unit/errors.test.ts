// Retryability is decided by the error code, in one place (src/errors.ts), for our errors and the POP3
// client's alike; BullMQ's UnrecoverableError is final; anything else is taken as passing.
import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { isRetryable, PophookError } from '../../src/errors.ts';
import { Pop3Error } from '../../src/pop3/index.ts';

describe('isRetryable', () => {
  it('follows the code of a PophookError', () => {
    expect(isRetryable(new PophookError('WEBHOOK_HTTP_RETRYABLE', 'x'))).toBe(true);
    expect(isRetryable(new PophookError('WEBHOOK_TIMEOUT', 'x'))).toBe(true);
    expect(isRetryable(new PophookError('RAW_MISSING', 'x'))).toBe(true);
    expect(isRetryable(new PophookError('PAYLOAD_THREAD_START_FAILED', 'x'))).toBe(true);
    expect(isRetryable(new PophookError('WEBHOOK_HTTP_4XX', 'x'))).toBe(false);
    expect(isRetryable(new PophookError('PAYLOAD_PARSE_TIMEOUT', 'x'))).toBe(false);
    expect(isRetryable(new PophookError('PAYLOAD_LIMIT', 'x'))).toBe(false);
  });

  it("follows the POP3 client's own catalog", () => {
    expect(isRetryable(new Pop3Error('POP3_CONNECTION_CLOSED', 'x'))).toBe(true);
    expect(isRetryable(new Pop3Error('POP3_AUTH_FAILED', 'x'))).toBe(false);
  });

  it('never retries an UnrecoverableError; anything else is passing', () => {
    expect(isRetryable(new UnrecoverableError('final'))).toBe(false);
    expect(isRetryable(new Error('Connection is closed.'))).toBe(true);
    expect(isRetryable('shutdown')).toBe(true);
  });
});
