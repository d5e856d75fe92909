// Header text decoding with mailparser's own decoders, libmime (RFC 2047 encoded-words, charset aliases,
// the Japanese charsets iconv-lite lacks) and iconv-lite, so subject and headers[] agree with the bodies,
// display names and file names mailparser decodes. pophook adds two things the libraries do not do:
// raw header bytes that are not UTF-8 are read as windows-1252 (libmime gives U+FFFD and loses the byte),
// and an encoded-word in a charset libmime does not decode (unknown, or refused like UTF-7, which can
// smuggle markup) stays as written and is reported instead of being read as UTF-8. The one home of both
// libraries, so it also serves the few other text decodings the payload does (TNEF's code pages, the
// content type of a file name).
import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import libmime from 'libmime';

export interface DecodedText {
  text: string;
  /** An encoded-word named a charset libmime does not decode (UTF-7 included). */
  invalidCharset: boolean;
}

const EIGHT_BIT = /[^\x00-\x7f]/;

// The encoded-word syntax libmime's decodeWords matches, so the words set aside here are exactly the
// words it would otherwise decode.
const ENCODED_WORD = /=\?([\w_\-*]+)\?([QqBb])\?([^?]*)\?=/g;

/**
 * Reads header bytes held in a latin1 (byte-per-char) string: UTF-8 when valid (RFC 6532), windows-1252
 * otherwise (the legacy charset of most 8-bit headers, and a superset of Latin-1's printable range).
 */
export function decodeHeaderBytes(latin1: string): string {
  // Pure ASCII is the common case and needs no work.
  if (!EIGHT_BIT.test(latin1)) return latin1;
  const bytes = Buffer.from(latin1, 'latin1');
  return isUtf8(bytes) ? bytes.toString('utf8') : iconv.decode(bytes, 'windows-1252');
}

/** Whether header bytes (a latin1 string) are 8-bit and not UTF-8: their charset was never declared. */
export function isLegacyHeaderBytes(latin1: string): boolean {
  return EIGHT_BIT.test(latin1) && !isUtf8(Buffer.from(latin1, 'latin1'));
}

/** Decodes every encoded-word of an unfolded header value (RFC 2047 §6) the way mailparser does. */
export function decodeEncodedWords(value: string): DecodedText {
  // Most header values hold no encoded-word, and libmime hands such a value back as it is (its one other
  // rewrite removes its own joining marker, which holds a NUL): five regular expressions saved per field.
  if (!value.includes('=?') && !value.includes('\0')) return { text: value, invalidCharset: false };
  let text = '';
  let last = 0;
  let invalidCharset = false;
  for (const match of value.matchAll(ENCODED_WORD)) {
    if (isSupportedCharset(match[1] ?? '')) continue;
    invalidCharset = true;
    text += libmime.decodeWords(value.slice(last, match.index)) + match[0];
    last = match.index + match[0].length;
  }
  return { text: text + libmime.decodeWords(value.slice(last)), invalidCharset };
}

/** Text in a Windows code page (TNEF's attOemCodepage: 1252, 932…); windows-1252 for one iconv-lite lacks. */
export function decodeCodepage(bytes: Buffer, codepage: number): string {
  const label = `cp${codepage}`;
  return iconv.decode(bytes, iconv.encodingExists(label) ? label : 'windows-1252');
}

/** The content type mailparser would give a file of this name (libmime's table by extension). */
export function contentTypeOf(filename: string | null): string {
  return (filename && libmime.detectMimeType(filename)) || 'application/octet-stream';
}

/** Whether libmime decodes a charset label (aliases resolved; RFC 2231 §5 language suffix ignored). */
export function isSupportedCharset(label: string): boolean {
  const charset = label.replace(/\*.*$/, '').trim();
  return charset !== '' && libmime.createDecodeStream(charset).supported;
}
