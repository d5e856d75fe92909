import { describe, expect, it } from 'vitest';
import { parseDuration, parseSize } from '../../../src/config/index.ts';
import { isPophookError } from '../../../src/errors.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isPophookError(error) ? error.code : 'not a PophookError';
  }
  return undefined;
}

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['0s', 0],
    ['30s', 30_000],
    ['1.5s', 1500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['14d', 1_209_600_000],
    ['30 s', 30_000],
    [' 5m ', 300_000],
  ])('%s is %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([
    '30', // a bare number: seconds or milliseconds? refused rather than guessed
    '',
    's',
    '30x',
    '30S',
    '-5s',
    '1h30m',
    '0.5ms',
    '1e3s',
    '30  s',
    '99999999999999999d',
  ])('refuses %j with CONFIG_INVALID', (input) => {
    expect(codeOf(() => parseDuration(input))).toBe('CONFIG_INVALID');
  });
});

describe('parseSize', () => {
  it.each([
    ['100B', 100],
    ['0B', 0],
    ['512KB', 512_000],
    ['512kB', 512_000],
    ['25MB', 25_000_000],
    ['1GB', 1_000_000_000],
    ['2TB', 2_000_000_000_000],
    ['512KiB', 524_288],
    ['25MiB', 26_214_400],
    ['1GiB', 1_073_741_824],
    ['1.5KiB', 1536],
    ['1.5MB', 1_500_000],
    ['25 MB', 25_000_000],
  ])('%s is %d bytes', (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  it.each([
    '25', // bytes or megabytes? refused
    '',
    'MB',
    '25mb',
    '25Mb',
    '25 megabytes',
    '-1MB',
    '0.3KiB',
    '1e6B',
    '9999999TiB',
  ])('refuses %j with CONFIG_INVALID', (input) => {
    expect(codeOf(() => parseSize(input))).toBe('CONFIG_INVALID');
  });
});
