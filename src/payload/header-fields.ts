// Header block syntax without any third-party parser: splitting a block into unfolded fields (RFC 5322
// §2.2, §2.2.3) and reading a MIME parameterised value such as Content-Type (RFC 2045 §5.1, RFC 2231 §3-4).
// Text here is a latin1 string, one char per byte, so no byte is lost before a caller picks a charset.

export interface RawField {
  /** The field name as written (case kept). */
  name: string;
  /** The unfolded value, white space around it trimmed; still latin1 bytes, still RFC 2047 encoded. */
  value: string;
}

export interface ParameterizedValue {
  /** The value before the first ';', lower-cased and trimmed (e.g. 'multipart/mixed'). */
  value: string;
  /** Parameters keyed by lower-case name, RFC 2231 continuations joined and percent-decoded. */
  params: Map<string, string>;
}

/**
 * Splits a header block into fields. A line that starts with white space continues the previous field
 * (§2.2.3: unfolding removes the CRLF); a line that is neither a field nor a continuation (no colon, such
 * as an mbox "From " line) is left out.
 */
export function splitFields(block: string): RawField[] {
  const fields: RawField[] = [];
  for (const line of block.split(/\r?\n(?![ \t])/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === '' || /[\s]/.test(name)) continue;
    const value = line.slice(colon + 1);
    fields.push({ name, value: trimWsp(value.includes('\n') ? value.replace(/\r?\n/g, '') : value) });
  }
  return fields;
}

/**
 * Only RFC 5322 WSP (space, tab) trimmed from both ends: String#trim would also drop 0xA0, the last byte of
 * many UTF-8 characters (U+05E0 is D7 A0) in this byte-per-char string.
 */
function trimWsp(text: string): string {
  const isWsp = (at: number) => text.charCodeAt(at) === 0x20 || text.charCodeAt(at) === 0x09;
  let start = 0;
  let end = text.length;
  while (start < end && isWsp(start)) start += 1;
  while (end > start && isWsp(end - 1)) end -= 1;
  return text.slice(start, end);
}

/** The first field of a name, case-insensitively (RFC 5322 §1.2.2), as MIME parsers read duplicates. */
export function firstField(fields: readonly RawField[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return fields.find((field) => field.name.toLowerCase() === lower)?.value;
}

/** Parses `type/subtype; name=value; name*0*=charset'lang'%xx…` (RFC 2045 §5.1, RFC 2231). */
export function parseParameterized(raw: string): ParameterizedValue {
  const [head = '', ...rest] = splitOutsideQuotes(stripComments(raw), ';');
  const pieces = new Map<string, { index: number; text: string; extended: boolean }[]>();
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const match = /^([^*]+)(?:\*(\d+))?(\*)?$/.exec(key);
    if (match === null) continue;
    const name = match[1] ?? key;
    const list = pieces.get(name) ?? [];
    list.push({
      index: Number(match[2] ?? 0),
      text: unquote(part.slice(eq + 1).trim()),
      extended: !!match[3],
    });
    pieces.set(name, list);
  }
  const params = new Map<string, string>();
  for (const [name, list] of pieces) {
    list.sort((a, b) => a.index - b.index);
    // Concatenated, not mapped and joined: TurboFan's inlined map returns a holey array, which deoptimizes join.
    let value = '';
    for (const [i, piece] of list.entries()) {
      value += piece.extended ? decodeExtended(piece.text, i === 0) : piece.text;
    }
    params.set(name, value);
  }
  return { value: head.trim().toLowerCase(), params };
}

/** RFC 2231 §4: `charset'language'%XX…`; the charset prefix only on the first piece. Bytes stay latin1. */
function decodeExtended(text: string, first: boolean): string {
  const body = first ? text.replace(/^[^']*'[^']*'/, '') : text;
  return body.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

export function unquote(text: string): string {
  if (text.length < 2 || !text.startsWith('"') || !text.endsWith('"')) return text;
  return text.slice(1, -1).replace(/\\(.)/g, '$1');
}

/** Splits on a separator that is not inside a quoted-string (RFC 5322 §3.2.4). */
export function splitOutsideQuotes(text: string, separator: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\' && quoted) i++;
    else if (ch === '"') quoted = !quoted;
    else if (ch === separator && !quoted) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** Drops RFC 5322 §3.2.2 comments outside quoted-strings, as the MIME parsers do (`boundary=b (c)` is b). */
export function stripComments(text: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? '';
    if (ch === '\\' && (quoted || depth > 0)) {
      if (depth === 0) out += ch + (text[i + 1] ?? '');
      i++;
    } else if (ch === '"' && depth === 0) {
      quoted = !quoted;
      out += ch;
    } else if (ch === '(' && !quoted) depth++;
    else if (ch === ')' && !quoted && depth > 0) depth--;
    else if (depth === 0) out += ch;
  }
  return out;
}
