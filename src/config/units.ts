// Human durations (`30s`, `5m`, `250ms`) and sizes (`25MB`, `512KiB`) as written in the YAML file.
// A unit is always required: a bare `30` could mean seconds or milliseconds, `25` bytes or megabytes,
// so it is refused rather than guessed. Sizes follow IEC 80000-13: kB/KB/MB/GB/TB are powers of 1000,
// KiB/MiB/GiB/TiB powers of 1024.

import { PophookError } from '../errors.ts';

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const SIZE_UNITS_BYTES: Readonly<Record<string, number>> = {
  B: 1,
  kB: 1000,
  KB: 1000,
  MB: 1000 ** 2,
  GB: 1000 ** 3,
  TB: 1000 ** 4,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};

/** What a duration looks like; used in issue messages, which never quote the offending value. */
export const DURATION_HINT = 'expected a duration with a unit: 250ms, 30s, 5m, 1h or 1d';
/** What a size looks like; used in issue messages, which never quote the offending value. */
export const SIZE_HINT =
  'expected a size with a unit: 100B, 512KB, 25MB, 1GB (powers of 1000) or 512KiB, 25MiB (1024)';

const QUANTITY = /^(\d+(?:\.\d+)?) ?([A-Za-z]+)$/;

/** A whole number of units, or undefined when the text is not `<number><unit>` or not whole. */
function quantity(input: string, units: Readonly<Record<string, number>>): number | undefined {
  const match = QUANTITY.exec(input.trim());
  const factor = match ? units[match[2]!] : undefined;
  if (match === null || factor === undefined) return undefined;
  const value = Number(match[1]) * factor;
  // `1.5s` is 1500 ms, but `0.5ms` or `0.3KiB` cannot be expressed in whole milliseconds/bytes.
  if (!Number.isSafeInteger(Math.round(value)) || Math.abs(value - Math.round(value)) > 1e-6)
    return undefined;
  return Math.round(value);
}

/** Milliseconds in a duration like `30s`, or undefined when it is not one. */
export function tryParseDuration(input: string): number | undefined {
  return quantity(input, DURATION_UNITS_MS);
}

/** Bytes in a size like `25MB`, or undefined when it is not one. */
export function tryParseSize(input: string): number | undefined {
  return quantity(input, SIZE_UNITS_BYTES);
}

/** `30s` → 30000. Throws CONFIG_INVALID for anything else, bare numbers included. */
export function parseDuration(input: string): number {
  const ms = tryParseDuration(input);
  if (ms === undefined) {
    throw new PophookError('CONFIG_INVALID', `${JSON.stringify(input)} is not a duration: ${DURATION_HINT}`);
  }
  return ms;
}

/** `25MB` → 25000000, `25MiB` → 26214400. Throws CONFIG_INVALID for anything else, bare numbers included. */
export function parseSize(input: string): number {
  const bytes = tryParseSize(input);
  if (bytes === undefined) {
    throw new PophookError('CONFIG_INVALID', `${JSON.stringify(input)} is not a size: ${SIZE_HINT}`);
  }
  return bytes;
}

/** 90000 → `90s`: the largest unit that divides it exactly, for messages about limits. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const factor = DURATION_UNITS_MS[unit]!;
    if (ms >= factor && ms % factor === 0) return `${ms / factor}${unit}`;
  }
  return `${ms}ms`;
}
