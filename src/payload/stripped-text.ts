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

/** Outlook's block: a From line directly followed by a Sent (or Date) line, in the clients' languages. */
const OUTLOOK_BLOCK = new RegExp(
  String.raw`^[ \t]*\*?(?:From|Von|De|Van|Da|Fra|Från)[ \t]*:\*?[^\n]*\n(?:[ \t]*\n)?` +
    String.raw`[ \t]*\*?(?:Sent|Date|Gesendet|Datum|Envoyé|Date d'envoi|Enviado(?: el)?|Enviada em|Verzonden|Inviato|Data|Sendt|Skickat)[ \t]*:`,
  'imu',
);

/** The "original message" rule of Outlook and Thunderbird, in the languages the library lacks. */
const ORIGINAL_RULE =
  /^[ \t]*-{2,}[ \t]*(?:Mensaje original|Messaggio originale|Oorspronkelijk bericht|Origineel bericht|Mensagem original|Mensagem Original|Originalnachricht)[ \t]*-{2,}[ \t]*$/imu;

const parser = new EmailReplyParser();

/** The reply's own text, trimmed; null when there is no text; '' when everything was quoted. */
export function stripReply(text: string | null): string | null {
  if (text === null) return null;
  let head = text.length > MAX_STRIP_CHARS ? text.slice(0, MAX_STRIP_CHARS) : text;
  for (const pattern of [OUTLOOK_BLOCK, ORIGINAL_RULE]) {
    const match = pattern.exec(head);
    if (match !== null) head = head.slice(0, match.index);
  }
  const long: string[] = [];
  const lines = head
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => (line.length > MAX_LINE_CHARS ? `\u0000L${long.push(line) - 1}\u0000` : line));
  return parser
    .parseReply(lines.join('\n'))
    .replace(STAND_IN, (stand, i: string) => long[Number(i)] ?? stand)
    .trim();
}
