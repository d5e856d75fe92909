// Test helpers for the SASL suites: catch a thrown Pop3Error and base64/utf8 shorthands.
import { expect } from 'vitest';
import { Pop3Error, type Pop3ErrorCode } from '../../../../src/pop3/errors.ts';

export function thrown(fn: () => unknown): Pop3Error {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(Pop3Error);
    return error as Pop3Error;
  }
  throw new Error('expected a Pop3Error, nothing was thrown');
}

export function expectCode(fn: () => unknown, code: Pop3ErrorCode): Pop3Error {
  const error = thrown(fn);
  expect(error.code).toBe(code);
  return error;
}

export const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');
export const text = (bytes: Buffer | null): string | null => (bytes === null ? null : bytes.toString('utf8'));
