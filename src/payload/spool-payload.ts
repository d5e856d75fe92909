// Payload v1 of a big message written as JSON straight into a file (the spool the sender streams from),
// so no attachment's content is ever one Buffer or one string: mailparser hands over decoded bytes as they
// come, each piece is hashed and base64-encoded into the file (a remainder of 1 or 2 bytes carried to the
// next piece, so the base64 is one unbroken run). The JSON is the same payload as buildPayload's, its
// members in another order only where a value is known late: an attachment's `size` and `sha256` follow
// its `content`, and `text`, `html`, `size`, `sha256`, `warnings` follow the attachments (RFC 8259 §4:
// an object's members are unordered). The Postmark shape (meta.format) is written in the same pieces.
// Writes are synchronous: this runs in a parse thread of its own.
import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { GarbagePacer } from '../gc.ts';
import { type EntryHead, entriesOf, needsWholeContent } from './attachments.ts';
import {
  collect,
  entryBudget,
  inspectRaw,
  type PayloadHead,
  type PayloadTail,
  payloadHead,
  payloadTail,
} from './build-payload.ts';
import { streamMail } from './mail-parser.ts';
import { postmarkAttachmentHead, postmarkHead, postmarkTail } from './postmark.ts';
import { type RouteFacts, routeFacts } from './route-facts.ts';
import type { PayloadMeta, PayloadOptions, PayloadSummary, StructureLimits } from './types.ts';

export interface SpoolResult {
  /** Bytes of JSON written to the file. */
  bytes: number;
  summary: PayloadSummary;
  facts: RouteFacts;
}

const BUFFER_BYTES = 256 * 1024;

/** How each piece of the JSON is written, per shape. */
const SHAPES = {
  pophook: {
    head: (head: PayloadHead) => `${JSON.stringify(head).slice(0, -1)},"attachments":[`,
    attachment: (head: EntryHead) => `${JSON.stringify(head).slice(0, -1)},"content":"`,
    attachmentEnd: (size: number, sha256: string) => `","size":${size},"sha256":"${sha256}"}`,
    tail: (tail: PayloadTail) => `],${JSON.stringify(tail).slice(1)}`,
  },
  postmark: {
    head: (head: PayloadHead) => `${JSON.stringify(postmarkHead(head)).slice(0, -1)},"Attachments":[`,
    attachment: (head: EntryHead) =>
      `${JSON.stringify(postmarkAttachmentHead(head)).slice(0, -1)},"Content":"`,
    attachmentEnd: (size: number) => `","ContentLength":${size}}`,
    tail: (tail: PayloadTail) => `],${JSON.stringify(postmarkTail(tail)).slice(1)}`,
  },
};
type Shape = (typeof SHAPES)['pophook'];

export async function spoolPayload(
  raw: Buffer,
  meta: PayloadMeta,
  limits: StructureLimits,
  path: string,
  options: PayloadOptions = {},
): Promise<SpoolResult> {
  const inspected = inspectRaw(raw, limits);
  const budget = entryBudget(inspected, limits, options);
  const out = new JsonFile(path);
  const shape: Shape = SHAPES[meta.format ?? 'pophook'];
  try {
    let head: PayloadHead | undefined;
    const attachmentTypes: string[] = [];
    const bodies = await streamMail(raw, limits, {
      onHeaders(fields) {
        head = payloadHead(meta, inspected.root, fields, options);
        out.write(shape.head(head));
      },
      async onAttachment(attachment, content) {
        // A TNEF part is read whole (its files come out of it); any other part streams through.
        const entries = needsWholeContent(attachment)
          ? entriesOf(attachment, await collect(content as AsyncIterable<Buffer>), budget).map((e) => ({
              ...e,
              content: [e.content],
            }))
          : [{ head: { ...attachment, source: 'mime' as const }, content }];
        for (const entry of entries) {
          if (attachmentTypes.push(entry.head.contentType) > 1) out.write(',');
          await writeAttachment(out, shape, entry.head, entry.content);
        }
      },
    });
    const tail = payloadTail(raw, inspected, bodies, budget.warnings);
    out.write(shape.tail(tail));
    out.close();
    return {
      bytes: out.bytes,
      summary: {
        messageId: head?.messageId ?? null,
        subject: head?.subject ?? null,
        attachments: attachmentTypes.length,
        size: tail.size,
      },
      facts: routeFacts(head?.headers ?? [], head?.subject ?? null, {
        attachmentTypes,
        bounce: tail.bounce !== null,
      }),
    };
  } finally {
    out.close();
  }
}

async function writeAttachment(
  out: JsonFile,
  shape: Shape,
  head: EntryHead,
  content: Readable | readonly Buffer[],
): Promise<void> {
  out.write(shape.attachment(head));
  const hash = createHash('sha256');
  const pacer = new GarbagePacer();
  let size = 0;
  let carry = Buffer.alloc(0);
  for await (const piece of content as AsyncIterable<Buffer>) {
    hash.update(piece);
    size += piece.length;
    pacer.add(piece.length);
    const joined = carry.length > 0 ? Buffer.concat([carry, piece]) : piece;
    const whole = joined.length - (joined.length % 3);
    out.write(joined.toString('base64', 0, whole));
    carry = Buffer.from(joined.subarray(whole));
  }
  out.write(carry.toString('base64') + shape.attachmentEnd(size, hash.digest('hex')));
}

/** A write buffer over a file descriptor; `close` is idempotent. */
class JsonFile {
  bytes = 0;
  #fd: number | null;
  #buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  #used = 0;

  constructor(path: string) {
    this.#fd = openSync(path, 'wx', 0o600);
  }

  write(text: string): void {
    const length = Buffer.byteLength(text);
    if (this.#used + length > BUFFER_BYTES) this.#flush();
    if (length > BUFFER_BYTES) {
      this.#writeAll(Buffer.from(text));
      return;
    }
    this.#used += this.#buffer.write(text, this.#used);
  }

  close(): void {
    if (this.#fd === null) return;
    this.#flush();
    closeSync(this.#fd);
    this.#fd = null;
  }

  #flush(): void {
    if (this.#used === 0) return;
    this.#writeAll(this.#buffer.subarray(0, this.#used));
    this.#used = 0;
  }

  #writeAll(bytes: Buffer): void {
    if (this.#fd === null) throw new Error('the spool file is closed');
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(this.#fd, bytes, offset);
    this.bytes += bytes.length;
  }
}
