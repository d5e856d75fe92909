// The root header block as the payload shows it: every field in message order, unfolded and decoded
// (header-text.ts: RFC 6532 UTF-8 or windows-1252 bytes, then RFC 2047 encoded-words), plus the fields
// read from that list rather than from mailparser: Subject (so it agrees with `headers`) and Date
// (mailparser substitutes the current time for a date it cannot read; the payload says null).
// readMessageHeaders does the same for the first bytes of a stored message, for people looking at one
// (`pophook dlq show`, the dashboard).
import { firstField, splitFields } from './header-fields.ts';
import { decodeEncodedWords, decodeHeaderBytes, isLegacyHeaderBytes } from './header-text.ts';
import type { PayloadHeader, PayloadWarning } from './types.ts';

export interface RootHeaders {
  headers: PayloadHeader[];
  subject: string | null;
  date: string | null;
  warnings: PayloadWarning[];
}

/**
 * The header block at the start of `head` (the first bytes of a message, or what TOP n 0 returned): up to
 * the first empty line, or, when `head` was cut before one, up to its last complete line.
 */
export function readMessageHeaders(head: Buffer): RootHeaders {
  const text = head.toString('latin1');
  const blank = /\r?\n\r?\n/.exec(text);
  const end = blank ? blank.index : Math.max(0, text.lastIndexOf('\n'));
  return readRootHeaders(text.slice(0, end));
}

export function readRootHeaders(block: string): RootHeaders {
  const warnings = new Set<PayloadWarning>();
  // Pushed, not mapped: TurboFan's inlined map returns a holey array, a shape the code reading `headers` has
  // not seen, and it deoptimizes (docs/performance.md, "the JIT's warm-up").
  const headers: PayloadHeader[] = [];
  for (const { name, value } of splitFields(block)) {
    const decoded = decodeEncodedWords(decodeHeaderBytes(value));
    if (decoded.invalidCharset) warnings.add('invalid-charset');
    if (isLegacyHeaderBytes(value)) warnings.add('undeclared-charset');
    headers.push({ name: decodeHeaderBytes(name), value: decoded.text });
  }
  const date = readDate(firstField(headers, 'date'));
  if (date === 'invalid') warnings.add('invalid-date');
  return {
    headers,
    subject: firstField(headers, 'subject') ?? null,
    date: date === 'invalid' ? null : date,
    warnings: [...warnings],
  };
}

/** RFC 5322 §3.3 date-time (obsolete forms included, as V8's Date parser reads them) to ISO 8601. */
function readDate(value: string | undefined): string | 'invalid' | null {
  if (value === undefined || value === '') return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? 'invalid' : new Date(time).toISOString();
}
