// Delivery failure reports read into `bounce`, so a pipeline can mark the original recipient's address as
// failing: RFC 3464 delivery status notifications (multipart/report with a message/delivery-status part:
// Postfix, Exchange, Gmail, Sendmail) and the two common forms without one, Exim's X-Failed-Recipients
// and qmail's "Hi. This is the qmail-send program". No kept npm library reads DSNs; their fields are
// header syntax (RFC 3464 §2.1), which header-fields.ts already reads.
import { firstField, type RawField, splitFields } from './header-fields.ts';
import { decodeHeaderBytes } from './header-text.ts';
import type { ReportPart } from './mime-scan.ts';
import type { BounceRecipient, PayloadBounce, PayloadHeader } from './types.ts';

// RFC 3463 enhanced status code (class.subject.detail), as reports and SMTP replies write it.
const STATUS = /\b([245]\.\d{1,3}\.\d{1,3})\b/;
// An SMTP reply with a 4xx/5xx code, the line a human-readable bounce quotes the remote server with.
const SMTP_REPLY = /\b[45]\d\d[ -].*/;
const QMAIL = /^Hi\. This is the qmail-send program/m;

export function readBounce(
  raw: Buffer,
  parts: readonly ReportPart[],
  headers: readonly PayloadHeader[],
  text: string | null,
): PayloadBounce | null {
  const status = parts.find((part) => part.type.endsWith('delivery-status'));
  const original = parts.find((part) => part.type !== status?.type);
  const originalMessageId = original === undefined ? null : messageIdOf(partText(raw, original));
  if (status !== undefined) return fromReport(partText(raw, status), originalMessageId);
  const failed = firstField(headers, 'x-failed-recipients');
  if (failed !== undefined) return fromExim(failed, text ?? '', originalMessageId);
  if (text !== null && QMAIL.test(text)) return fromQmail(text, originalMessageId);
  return null;
}

/** RFC 3464 §2: a block of per-message fields, then one block per recipient, blocks split by empty lines. */
function fromReport(report: string, originalMessageId: string | null): PayloadBounce {
  const [message = [], ...perRecipient] = report
    .split(/\r?\n[ \t]*\r?\n/)
    .map((block) => splitFields(block))
    .filter((fields) => fields.length > 0);
  return {
    form: 'dsn',
    reportingMta: typed(firstField(message, 'reporting-mta')),
    originalMessageId,
    recipients: perRecipient.map(recipientOf),
  };
}

function recipientOf(fields: RawField[]): BounceRecipient {
  const status = firstField(fields, 'status');
  return {
    recipient: typed(firstField(fields, 'final-recipient') ?? firstField(fields, 'original-recipient')),
    action: firstField(fields, 'action')?.toLowerCase() ?? null,
    status: (status && STATUS.exec(status)?.[1]) ?? null,
    diagnostic: typed(firstField(fields, 'diagnostic-code')),
    remoteMta: typed(firstField(fields, 'remote-mta')),
  };
}

/** `rfc822; user@example.com` → `user@example.com` (RFC 3464 §2.1.2: address-type ; address). */
function typed(value: string | undefined): string | null {
  if (value === undefined) return null;
  const semicolon = value.indexOf(';');
  const rest = (semicolon < 0 ? value : value.slice(semicolon + 1)).replace(/\s+/g, ' ').trim();
  return rest === '' ? null : decodeHeaderBytes(rest);
}

/** Exim names the failed addresses in a header and quotes the remote reply in its text. */
function fromExim(failed: string, text: string, originalMessageId: string | null): PayloadBounce {
  const diagnostic = SMTP_REPLY.exec(text)?.[0].trim() ?? null;
  return {
    form: 'exim',
    reportingMta: null,
    originalMessageId: originalMessageId ?? messageIdOf(text),
    recipients: failed
      .split(',')
      .map((address) => address.trim())
      .filter((address) => address !== '')
      .map((recipient) => ({
        recipient,
        action: 'failed',
        status: statusOf(diagnostic),
        diagnostic,
        remoteMta: null,
      })),
  };
}

/** qmail: `<address>:` on a line of its own, the remote's words on the lines below, a copy after a rule. */
function fromQmail(text: string, originalMessageId: string | null): PayloadBounce {
  const [report = '', copy = ''] = text.split(/^--- Below this line is a copy of the message\.$/m);
  const recipients: BounceRecipient[] = [];
  for (const match of report.matchAll(/^<([^<>\s]+@[^<>\s]+)>:\n((?:.+\n?)*)/gm)) {
    const diagnostic = (match[2] ?? '').replace(/\s+/g, ' ').trim() || null;
    const recipient = match[1] ?? null;
    recipients.push({
      recipient,
      action: 'failed',
      status: statusOf(diagnostic),
      diagnostic,
      remoteMta: null,
    });
  }
  return {
    form: 'qmail',
    reportingMta: null,
    originalMessageId: originalMessageId ?? messageIdOf(copy),
    recipients,
  };
}

function statusOf(diagnostic: string | null): string | null {
  return (diagnostic && STATUS.exec(diagnostic)?.[1]) ?? null;
}

/** The Message-ID of the returned message's header block (the first one in `text`). */
function messageIdOf(text: string): string | null {
  const header = text.split(/\r?\n\r?\n/)[0] ?? '';
  const id = firstField(splitFields(header), 'message-id') ?? /^Message-ID:\s*(<[^<>\s]+>)/im.exec(text)?.[1];
  return id === undefined ? null : (/<[^<>\s]+>/.exec(id)?.[0] ?? null);
}

/** A report part's bytes as latin1 text, its transfer encoding undone (base64 only: the rest is text). */
function partText(raw: Buffer, part: ReportPart): string {
  const text = raw.toString('latin1', part.start, Math.min(part.end, part.start + 256 * 1024));
  return part.encoding === 'base64' ? Buffer.from(text, 'base64').toString('latin1') : text;
}
