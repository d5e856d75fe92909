// The zod building blocks of the configuration schema: documented fields, durations, sizes, whole numbers
// and booleans that also accept their `${VAR}`-interpolated string form, ids, secrets, HTTP header parts.
// Messages say what is expected and never quote the value (it may be a secret in the wrong place).

import * as z from 'zod';
import { DURATION_HINT, formatDuration, SIZE_HINT, tryParseDuration, tryParseSize } from './units.ts';

export interface FieldDoc {
  readonly type: string;
  readonly description: string;
}

/** Type labels and descriptions for describeConfigSchema(), the source of the README's reference. */
export const configDocs = z.registry<FieldDoc>();

export function documented<T extends z.ZodType>(schema: T, type: string, description: string): T {
  configDocs.add(schema, { type, description });
  return schema;
}

/** A schema-level message for a wrong type or value; a missing required key just says so. */
export const expecting = (message: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? 'required' : message;

/** Mailbox and webhook ids end up in BullMQ job ids and Redis keys: no `:`, never empty. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const ID_RULE = 'an id is 1 to 64 letters, digits, _ or -';
export const id = () =>
  z.string({ error: expecting('expected an id') }).regex(ID_PATTERN, { error: ID_RULE });

/** A duration string such as `30s`, as whole milliseconds within [minMs, maxMs]. */
export function duration(minMs: number, maxMs: number) {
  return z.string({ error: expecting(DURATION_HINT) }).transform((text, ctx) => {
    const ms = tryParseDuration(text);
    if (ms === undefined) ctx.addIssue({ code: 'custom', message: DURATION_HINT });
    else if (ms < minMs || ms > maxMs) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a duration between ${formatDuration(minMs)} and ${formatDuration(maxMs)}`,
      });
    } else return ms;
    return z.NEVER;
  });
}

/** A size string such as `25MB`, as whole bytes, at least minBytes. */
export function size(minBytes: number) {
  return z.string({ error: expecting(SIZE_HINT) }).transform((text, ctx) => {
    const bytes = tryParseSize(text);
    if (bytes === undefined) ctx.addIssue({ code: 'custom', message: SIZE_HINT });
    else if (bytes < minBytes)
      ctx.addIssue({ code: 'custom', message: `expected at least ${minBytes} bytes` });
    else return bytes;
    return z.NEVER;
  });
}

// `port: ${POP3_PORT}` arrives as the string "995" after interpolation, so numbers and booleans accept
// their plain string spelling too.
const fromDecimalString = (value: unknown) =>
  typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
const fromBooleanString = (value: unknown) => (value === 'true' ? true : value === 'false' ? false : value);

export function integer(min: number, max: number) {
  const error = `expected a whole number between ${min} and ${max}`;
  return z.preprocess(
    fromDecimalString,
    z.number({ error }).int({ error }).min(min, { error }).max(max, { error }),
  );
}

export function boolean() {
  return z.preprocess(fromBooleanString, z.boolean({ error: expecting('expected true or false') }));
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: expecting(`expected one of: ${values.join(', ')}`) });
}

/** A non-empty single-line string: CR, LF and NUL would split a protocol command (RFC 1939 §3). */
export function line(what: string) {
  return z
    .string({ error: expecting(`expected ${what} as a string (quote it)`) })
    .min(1, { error: `expected ${what}, got an empty string` })
    .refine((value) => !/[\r\n\0]/.test(value), { error: `${what} must not contain CR, LF or NUL` });
}

/** A file path (passwordFile, secretFile, ca…); the file itself is read by files.ts. */
export const filePath = () =>
  z
    .string({ error: expecting('expected a file path') })
    .min(1, { error: 'expected a file path, got an empty string' });

/**
 * Standard Webhooks secret: `whsec_` then base64 of 24 to 64 random bytes. Returns what is wrong, never
 * the value.
 */
export function webhookSecretProblem(secret: string): string | undefined {
  const hint =
    'expected whsec_ followed by the base64 of 24 to 64 random bytes (e.g. `openssl rand -base64 32`)';
  if (!secret.startsWith('whsec_')) return hint;
  const encoded = secret.slice('whsec_'.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return `${hint}; not valid base64`;
  const bytes = Buffer.from(encoded, 'base64').length;
  if (bytes < 24 || bytes > 64) return `${hint}; it decodes to ${bytes} bytes`;
  return undefined;
}

export const webhookSecret = z
  .string({ error: expecting('expected a whsec_… string') })
  .superRefine((secret, ctx) => {
    const problem = webhookSecretProblem(secret);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

/** RFC 9110 §5.6.2 token: the characters a header field name may use. */
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Set by the sender itself (Standard Webhooks, JSON body, framing); a config value would break them. */
export const RESERVED_HEADERS = [
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'content-type',
  'content-length',
  'transfer-encoding',
  'host',
  'connection',
];

export const headerName = z
  .string()
  .regex(HTTP_TOKEN, { error: 'a header name is an HTTP token (letters, digits and !#$%&*+-.^_`|~)' })
  .refine((name) => !RESERVED_HEADERS.includes(name.toLowerCase()), {
    error: `pophook sets this header itself; reserved: ${RESERVED_HEADERS.join(', ')}`,
  });

/** RFC 9110 §5.5: a field value never contains CR, LF or NUL. */
export const headerValue = z
  .string({ error: 'expected a header value as a string (quote it)' })
  .refine((value) => !/[\r\n\0]/.test(value), { error: 'a header value must not contain CR, LF or NUL' });

export function httpUrl() {
  return z.string({ error: expecting('expected an http:// or https:// URL') }).superRefine((text, ctx) => {
    const url = URL.canParse(text) ? new URL(text) : undefined;
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      ctx.addIssue({ code: 'custom', message: 'expected an http:// or https:// URL' });
    } else if (url.username !== '' || url.password !== '') {
      // URLs end up in logs; credentials belong in a header (Authorization) where they are masked.
      ctx.addIssue({
        code: 'custom',
        message: 'put credentials in headers (e.g. Authorization), not in the URL',
      });
    }
  });
}

export function redisUrl() {
  return z.string({ error: expecting('expected a redis:// or rediss:// URL') }).superRefine((text, ctx) => {
    const url = URL.canParse(text) ? new URL(text) : undefined;
    if (
      url === undefined ||
      (url.protocol !== 'redis:' && url.protocol !== 'rediss:') ||
      url.hostname === ''
    ) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected a redis://[user:password@]host[:port][/db] or rediss:// URL',
      });
    }
  });
}

/** A calendar date or an ISO 8601 date-time (RFC 3339 profile), as JavaScript reads it. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?$/;
const START_AT_HINT = 'expected everything, now, or an ISO date such as 2026-01-31 or 2026-01-31T08:00:00Z';

/** A mailbox's start point: `everything`, `now`, or an ISO date (a date alone means its start, UTC). */
export function startAt() {
  return z.string({ error: expecting(START_AT_HINT) }).superRefine((text, ctx) => {
    if (text === 'everything' || text === 'now') return;
    if (!ISO_DATE.test(text) || Number.isNaN(Date.parse(text))) {
      ctx.addIssue({ code: 'custom', message: START_AT_HINT });
    }
  });
}
