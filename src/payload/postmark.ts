// The same message in the shape of Postmark's inbound webhook JSON, for integrations written against it
// (webhooks.<id>.format: postmark): PascalCase members, addresses as display strings plus *Full lists,
// "" rather than null. Built from the pophook payload's parts, so the streamed spool can write it in the
// same three pieces (head, attachments, tail) as the pophook shape.
import type { PayloadHead, PayloadTail } from './build-payload.ts';
import { plusTag } from './intake-signals.ts';
import type { AttachmentSource, Disposition, PayloadAddress, PayloadV1 } from './types.ts';

export interface PostmarkAddress {
  Email: string;
  Name: string;
  MailboxHash: string;
}

export interface PostmarkAttachment {
  Name: string;
  ContentType: string;
  ContentID: string;
  Content: string;
  ContentLength: number;
}

/** The whole Postmark-shaped body of a payload. */
export function toPostmark(payload: PayloadV1) {
  return {
    ...postmarkHead(payload),
    Attachments: payload.attachments.map(
      (attachment): PostmarkAttachment => ({
        ...postmarkAttachmentHead(attachment),
        // The config allows attachment policies with the pophook shape only: content is always there.
        Content: attachment.content ?? '',
        ContentLength: attachment.size,
      }),
    ),
    ...postmarkTail(payload),
  };
}

/** The members known before the attachments. */
export function postmarkHead(head: PayloadHead) {
  const date = head.headers.find((h) => h.name.toLowerCase() === 'date')?.value ?? '';
  const from = head.from === null ? [] : [head.from];
  return {
    FromName: head.from?.name ?? '',
    MessageStream: 'inbound',
    From: head.from?.address ?? '',
    FromFull: full(from)[0] ?? { Email: '', Name: '', MailboxHash: '' },
    To: display(head.to),
    ToFull: full(head.to),
    Cc: display(head.cc),
    CcFull: full(head.cc),
    Bcc: display(head.bcc),
    BccFull: full(head.bcc),
    OriginalRecipient: head.envelope.to ?? head.to[0]?.address ?? '',
    ReplyTo: display(head.replyTo),
    Subject: head.subject ?? '',
    // Postmark's own id of the message: here the payload id, stable across retries like webhook-id.
    MessageID: head.id,
    Date: date,
    MailboxHash: head.mailboxHash ?? '',
    Tag: '',
    Headers: head.headers.map(({ name, value }) => ({ Name: name, Value: value })),
  };
}

/** An attachment's members but its content and length (the spool writes those as they come). */
export function postmarkAttachmentHead(head: {
  filename: string | null;
  contentType: string;
  contentId: string | null;
  disposition: Disposition | null;
  source: AttachmentSource;
}): Omit<PostmarkAttachment, 'Content' | 'ContentLength'> {
  return { Name: head.filename ?? '', ContentType: head.contentType, ContentID: head.contentId ?? '' };
}

/** The members known once the parse is over. */
export function postmarkTail(tail: PayloadTail) {
  return { TextBody: tail.text ?? '', HtmlBody: tail.html ?? '', StrippedTextReply: tail.strippedText ?? '' };
}

function full(list: readonly PayloadAddress[]): PostmarkAddress[] {
  return list.map(({ name, address }) => ({
    Email: address ?? '',
    Name: name ?? '',
    MailboxHash: plusTag(address) ?? '',
  }));
}

/** `"Name" <address>, other@example.com`, the display form Postmark gives in To, Cc, Bcc and ReplyTo. */
function display(list: readonly PayloadAddress[]): string {
  return list
    .map(({ name, address }) => {
      if (name === null) return address ?? '';
      const quoted = `"${name.replace(/(["\\])/g, '\\$1')}"`;
      return address === null ? quoted : `${quoted} <${address}>`;
    })
    .join(', ');
}
