// Header text decoding: RFC 2047 encoded-words (=?charset?B|Q?text?=) and raw 8-bit header bytes (RFC 6532
// UTF-8, or legacy Latin-1 when the bytes are not UTF-8). Charsets are the WHATWG Encoding Standard's labels
// (TextDecoder); an encoded-word in a charset it does not know stays as written and is reported.

export interface DecodedText {
  text: string;
  /** An encoded-word named a charset TextDecoder does not know (UTF-7 included: it can smuggle markup). */
  invalidCharset: boolean;
}

// RFC 2047 §2: charset and encoded-text hold no '?' and no white space. Bounded character classes keep the
// scan linear on hostile input.
const ENCODED_WORD = /=\?([^?\s]{1,75})\?([bBqQ])\?([^?\s]*)\?=/g;

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Reads header bytes held in a latin1 (byte-per-char) string: UTF-8 when valid (RFC 6532), Latin-1 otherwise. */
export function decodeHeaderBytes(latin1: string): string {
  // Pure ASCII is the common case and needs no work.
  if (!/[^\x00-\x7f]/.test(latin1)) return latin1;
  try {
    return utf8Strict.decode(Buffer.from(latin1, 'latin1'));
  } catch {
    return latin1;
  }
}

type Piece = { kind: 'text'; text: string } | { kind: 'word'; charset: string; bytes: Buffer; raw: string };

/** Decodes every encoded-word in an unfolded header value (RFC 2047 §6). */
export function decodeEncodedWords(value: string): DecodedText {
  const pieces: Piece[] = [];
  let last = 0;
  for (const match of value.matchAll(ENCODED_WORD)) {
    const gap = value.slice(last, match.index);
    const prev = pieces.at(-1);
    // §6.2: white space between two adjacent encoded-words is not displayed.
    const adjacent = prev?.kind === 'word' && !/\S/.test(gap);
    if (!adjacent && gap !== '') pieces.push({ kind: 'text', text: gap });
    const charset = (match[1] ?? '').replace(/\*.*$/, '').toLowerCase(); // RFC 2231 §5 language suffix
    const bytes = decodeWordText((match[2] ?? 'b').toLowerCase(), match[3] ?? '');
    // Adjacent words of one charset are joined as bytes before decoding: senders split multi-byte
    // characters across words although §5 forbids it, and joining them is what mail clients do.
    if (adjacent && prev?.kind === 'word' && prev.charset === charset) {
      prev.bytes = Buffer.concat([prev.bytes, bytes]);
      prev.raw += gap + match[0];
    } else {
      pieces.push({ kind: 'word', charset, bytes, raw: match[0] });
    }
    last = match.index + match[0].length;
  }
  let text = '';
  let invalidCharset = false;
  for (const piece of pieces) {
    if (piece.kind === 'text') {
      text += piece.text;
      continue;
    }
    const decoded = decodeCharset(piece.charset, piece.bytes);
    if (decoded === null) invalidCharset = true;
    text += decoded ?? piece.raw;
  }
  return { text: text + value.slice(last), invalidCharset };
}

/** RFC 2047 §4.1 (B: base64) and §4.2 (Q: quoted-printable with '_' for space). */
function decodeWordText(encoding: string, text: string): Buffer {
  if (encoding === 'b') return Buffer.from(text, 'base64');
  const latin1 = text.replace(/_/g, ' ').replace(/=([0-9a-fA-F]{2})/g, (_m, hex: string) => {
    return String.fromCharCode(Number.parseInt(hex, 16));
  });
  return Buffer.from(latin1, 'latin1');
}

/** Decodes bytes in a named charset; null when the label is unknown or refused. */
export function decodeCharset(charset: string, bytes: Buffer): string | null {
  if (!isKnownCharset(charset)) return null;
  return new TextDecoder(charset).decode(bytes);
}

/** Whether TextDecoder knows a charset label (WHATWG Encoding Standard §4.2). */
export function isKnownCharset(charset: string): boolean {
  try {
    new TextDecoder(charset);
    return true;
  } catch {
    return false;
  }
}
