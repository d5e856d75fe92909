// The new text of a reply, without the quoted history and the signature: the one home of
// email-reply-parser (quote headers of the common clients in many languages, signatures, quoted lines).
// It misses two forms the helpdesk mail of this project's users is full of, so they are cut here first:
// Outlook's header block (From:/Sent:, Von:/Gesendet:, De :/Envoyé :…) when the From line has no
// <address>, and the "-----Original Message-----" rule in Spanish, Italian, Dutch and Portuguese.
import EmailReplyParser from 'email-reply-parser';

// Only the start of the text is read: a reply's own text comes first.
export const MAX_STRIP_CHARS = 32 * 1024;
// The library's patterns take time quadratic in a line's length (one 32,000-character line: 1.2 s). No
// quote header or signature is this long, so longer lines reach it as short stand-ins, put back after.
const MAX_LINE_CHARS = 1000;
const STAND_IN = /\u0000L(\d+)\u0000/g;
const TILDE = 0x7e;

/**
 * Outlook's block: a From line directly followed by a Sent (or Date) line, in the clients' languages. Letters
 * beyond ASCII in String.raw are written as \u escapes (the pattern reads them as the letters): the main
 * thread's bundle stays ASCII, read as a one-byte string (src/boot/code-cache.ts).
 */
const OUTLOOK_BLOCK = new RegExp(
  String.raw`^[ \t]*\*?(?:From|Von|De|Van|Da|Fra|Fr\u00e5n)[ \t]*:\*?[^\n]*\n(?:[ \t]*\n)?` +
    String.raw`[ \t]*\*?(?:Sent|Date|Gesendet|Datum|Envoy\u00e9|Date d'envoi|Enviado(?: el)?|Enviada em|Verzonden|Inviato|Data|Sendt|Skickat)[ \t]*:`,
  'imu',
);

/** The "original message" rule of Outlook and Thunderbird, in the languages the library lacks. */
const ORIGINAL_RULE =
  /^[ \t]*-{2,}[ \t]*(?:Mensaje original|Messaggio originale|Oorspronkelijk bericht|Origineel bericht|Mensagem original|Mensagem Original|Originalnachricht)[ \t]*-{2,}[ \t]*$/imu;

const parser = new EmailReplyParser();

// email-reply-parser tests every line against about sixty patterns: as much CPU as mailparser itself on a
// plain message. Each of its patterns (quote headers, over the whole text and per line; signatures per line;
// a quote is a line starting with ">") needs one of these pieces, so a text holding none of them has nothing
// for it to cut and skips it. test/unit/payload/stripped-text.test.ts holds this to the library's answer.
// The pieces that start a line share one `^` and the rest are a second pattern: one alternation of all of
// them tried every alternative at every character, twice the time of the two (12.7 against 7.1 µs on the
// benchmark corpus's texts).
const LINE_START_PIECES = [
  // A quoted line, a signature separator and Outlook's From line.
  '>',
  String.raw`\s*(?:-{2,4}|_{2,4}|\+{2,4}|={2,4}|_{32})\s*$`,
  String.raw`\s*(?:from|von|de|van|da)\s?:`,
  // "-----Original Message-----" in the library's languages.
  "-+ ?(?:original message|oprindelig besked|message d'origine|ursprüngliche nachricht)",
  // Signatures.
  '(?:sent from|get outlook for|télécharger outlook pour|gesendet von|sendt fra|enviado desde) ',
  '(?:envoyé (?:depuis|de mon|à partir de)|verzonden vanaf|verstuurd vanaf) ',
  '(?:cheers|best wishes|bien . vous|bonne (?:journ.e|soir.e))',
];
const ANYWHERE_PIECES = [
  // "… <address>:" and the quote headers ("On … wrote:") in the library's languages.
  String.raw`> *:\s*$`,
  String.raw`(?:wrote|\u00e9crit|escribi\u00f3|scritto|escreveu)\s?:?\s*-*\s*$`,
  'schrieb|schreef|pisze|napisał|skrev|kirjoitti|г\\. в|写道|작성|のメッセージ',
  // Signatures.
  String.raw`(?:regards|cordialement),?!?\uff01?\s*$|gesendet\s*$`,
];
const REPLY_LINE_STARTS = new RegExp(`^(?:${LINE_START_PIECES.join('|')})`, 'im');
const REPLY_ANYWHERE = new RegExp(ANYWHERE_PIECES.join('|'), 'im');

/** False when the text holds none of the literals email-reply-parser's patterns need. */
export function mayHoldReply(text: string): boolean {
  return REPLY_LINE_STARTS.test(text) || REPLY_ANYWHERE.test(text);
}

/**
 * What email-reply-parser answers for a text without any of its patterns: the text, each line without
 * its trailing white space, one leading newline and the trailing tildes removed.
 */
export function untouchedReply(text: string): string {
  // trimEnd removes what the library's /\s+$/ does (white space and line terminators), without a regular
  // expression per line; the tildes are counted back from the end instead of tried at every position.
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) lines[i] = lines[i]!.trimEnd();
  const joined = lines.join('\n');
  const start = joined.startsWith('\n') ? 1 : 0;
  let end = joined.length;
  while (end > start && joined.charCodeAt(end - 1) === TILDE) end -= 1;
  return joined.slice(start, end);
}

/** The reply's own text, trimmed; null when there is no text; '' when everything was quoted. */
export function stripReply(text: string | null): string | null {
  if (text === null) return null;
  let head = text.length > MAX_STRIP_CHARS ? text.slice(0, MAX_STRIP_CHARS) : text;
  const outlook = OUTLOOK_BLOCK.exec(head);
  if (outlook !== null) head = head.slice(0, outlook.index);
  // The rule needs two dashes: a text without them skips the pattern (2.7 of the cut's 18 µs per text on
  // the benchmark's corpus).
  const rule = head.includes('--') ? ORIGINAL_RULE.exec(head) : null;
  if (rule !== null) head = head.slice(0, rule.index);
  const long: string[] = [];
  const unix = head.replace(/\r\n/g, '\n');
  // A text no longer than a long line holds none. The lines are replaced in place: TurboFan's inlined map
  // returns a holey array, which deoptimizes the join that reads it.
  let joined = unix;
  if (unix.length > MAX_LINE_CHARS) {
    const lines = unix.split('\n');
    for (const [i, line] of lines.entries()) {
      if (line.length > MAX_LINE_CHARS) lines[i] = `\u0000L${long.push(line) - 1}\u0000`;
    }
    joined = lines.join('\n');
  }
  const reply = mayHoldReply(joined) ? parser.parseReply(joined) : untouchedReply(joined);
  return (
    long.length === 0 ? reply : reply.replace(STAND_IN, (stand, i: string) => long[Number(i)] ?? stand)
  ).trim();
}
