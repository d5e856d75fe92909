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
import { decisionBytes, type Placement, placementOf, type References } from './attachment-policy.ts';
import { type EntryHead, entriesOf, needsWholeContent } from './attachments.ts';
import {
  attachmentFacts,
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
  /** Of the raw message. */
  sha256: string;
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
  references?: References,
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
          await writeAttachment(out, shape, entry.head, entry.content, references);
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
        contentKey: tail.contentKey,
        subject: head?.subject ?? null,
        attachments: attachmentTypes.length,
        size: tail.size,
      },
      sha256: tail.sha256,
      facts: routeFacts(head?.headers ?? [], head?.subject ?? null, {
        attachmentTypes,
        bounce: tail.bounce !== null,
      }),
    };
  } finally {
    out.close();
  }
}

/**
 * One attachment's JSON. With a policy, its first bytes are held until its placement is known
 * (decisionBytes: the reference threshold or the skip size, whichever is larger), then they and the rest
 * go where it says: base64 into the JSON, into a file for upload, or nowhere.
 */
async function writeAttachment(
  out: JsonFile,
  shape: Shape,
  head: EntryHead,
  content: Readable | readonly Buffer[],
  references: References | undefined,
): Promise<void> {
  const horizon = references ? decisionBytes(references.policy, head.contentType) : 0;
  const place = (bytes: number): Placement =>
    references ? placementOf(references.policy, head.contentType, bytes) : 'inline';
  const hash = createHash('sha256');
  const pacer = new GarbagePacer();
  let size = 0;
  const held: Buffer[] = [];
  let sink: Sink | null = horizon === 0 ? sinkFor('inline', out, shape, head, references) : null;
  try {
    for await (const piece of content as AsyncIterable<Buffer>) {
      hash.update(piece);
      size += piece.length;
      pacer.add(piece.length);
      if (sink !== null) {
        sink.write(piece);
        continue;
      }
      held.push(piece);
      if (size < horizon) continue;
      sink = sinkFor(place(size), out, shape, head, references);
      for (const early of held.splice(0)) sink.write(early);
    }
    sink ??= sinkFor(place(size), out, shape, head, references);
    for (const early of held.splice(0)) sink.write(early);
    sink.end(size, hash.digest('hex'));
  } finally {
    sink?.close();
  }
}

interface Sink {
  write(piece: Buffer): void;
  /** Writes what follows the bytes into the JSON, once their size and digest are known. */
  end(size: number, sha256: string): void;
  close(): void;
}

function sinkFor(
  placement: Placement,
  out: JsonFile,
  shape: Shape,
  head: EntryHead,
  references: References | undefined,
): Sink {
  const facts = (size: number, sha256: string) =>
    JSON.stringify(attachmentFacts(head, size, sha256)).slice(0, -1);
  if (placement === 'skip') {
    return {
      write() {},
      end: (size, sha256) => out.write(`${facts(size, sha256)},"skipped":true}`),
      close() {},
    };
  }
  if (placement === 'reference') {
    const file = references!.file();
    return {
      write: (piece) => file.write(piece),
      end(size, sha256) {
        file.close();
        out.write(`${facts(size, sha256)},"reference":`);
        const referenced = { path: file.path, size, sha256, contentType: head.contentType };
        out.write(`${references!.addAt(referenced, out.position)}}`);
      },
      close: () => file.close(),
    };
  }
  // Inline: base64 into the JSON as the bytes come, a remainder of 1 or 2 bytes carried to the next piece.
  out.write(shape.attachment(head));
  let carry = Buffer.alloc(0);
  return {
    write(piece) {
      const joined = carry.length > 0 ? Buffer.concat([carry, piece]) : piece;
      const whole = joined.length - (joined.length % 3);
      out.write(joined.toString('base64', 0, whole));
      carry = Buffer.from(joined.subarray(whole));
    },
    end: (size, sha256) => out.write(carry.toString('base64') + shape.attachmentEnd(size, sha256)),
    close() {},
  };
}

/** A write buffer over a file descriptor; `close` is idempotent. */
class JsonFile {
  bytes = 0;
  #fd: number | null;

  /** Offset in the file of the next byte written. */
  get position(): number {
    return this.bytes + this.#used;
  }

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
