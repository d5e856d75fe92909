// The `strip-attachments` reduction of a message over maxMessageSize, applied while RETR streams it in:
// mailsplit (the MIME splitter mailparser itself is built on; this is its one home) cuts the bytes into
// header blocks, multipart delimiters and part bodies, and only the header blocks, the delimiters and the
// bodies of text/plain and text/html parts that are not attachments come out. A dropped part leaves no
// trace in the bytes: its opening delimiter line goes with it (RFC 2046 §5.1.1), so no empty part is left
// for a parser to find. Embedded messages (message/rfc822) count as attachments. The kept bytes are capped:
// text past `keepBytes` in total is cut off, so the stored message stays small whatever the sender wrote.
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import { Splitter, type SplitterChunk } from '@zone-eu/mailsplit';
import type { DroppedAttachment } from '../payload/types.ts';

type MimeNode = Extract<SplitterChunk, { type: 'node' }>;

const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;

export interface StrippedMessage {
  /** The reduced message bytes. */
  body: Readable;
  /** The parts left out, in message order; complete once `body` has ended. */
  dropped: DroppedAttachment[];
}

export function stripAttachments(raw: Readable, options: { keepBytes: number }): StrippedMessage {
  const stripper = new AttachmentStripper(options.keepBytes);
  // Errors of any stage destroy the last one, so whoever reads `body` sees them.
  const body = pipeline(raw, new Splitter({ ignoreEmbedded: true }), stripper, () => {});
  return { body, dropped: stripper.dropped };
}

/** mailsplit refused the message: a header block over 1 MiB or more than 1000 parts (its own limits). */
export function isMimeLimitError(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'EMAXLEN';
}

/** The part being read: its node, the delimiter bytes before it, whether its body is kept, bytes seen. */
interface OpenPart {
  node: MimeNode;
  before: Buffer | undefined;
  keep: boolean;
  bodyBytes: number;
}

class AttachmentStripper extends Transform {
  readonly dropped: DroppedAttachment[] = [];
  #left: number;
  /** Delimiter and preamble bytes not yet written: they belong to the next part, which may be dropped. */
  #held: Buffer | undefined;
  #part: OpenPart | undefined;

  constructor(keepBytes: number) {
    super({ writableObjectMode: true, readableObjectMode: false });
    this.#left = keepBytes;
  }

  override _transform(chunk: SplitterChunk, _encoding: BufferEncoding, done: TransformCallback): void {
    if (chunk.type === 'node') this.#node(chunk);
    else if (chunk.type === 'body') this.#body(chunk.value);
    else if (chunk.type === 'data') {
      this.#closePart();
      this.#held = this.#held ? Buffer.concat([this.#held, chunk.value]) : chunk.value;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    this.#closePart();
    this.#release();
    done();
  }

  #node(node: MimeNode): void {
    this.#closePart();
    if (node.multipart) {
      this.#release();
      this.#emit(node.getHeaders());
      return;
    }
    const keep = isTextBody(node);
    // The root's header block is the message's: it always stays, even when its body goes.
    if (node.root || keep) {
      this.#release();
      this.#emit(node.getHeaders());
      this.#part = { node, before: undefined, keep, bodyBytes: 0 };
      return;
    }
    this.#part = { node, before: this.#held, keep: false, bodyBytes: 0 };
    this.#held = undefined;
  }

  #body(bytes: Buffer): void {
    const part = this.#part;
    if (!part) return;
    part.bodyBytes += bytes.length;
    if (part.keep && this.#left > 0)
      this.#emit(bytes.length <= this.#left ? bytes : bytes.subarray(0, this.#left));
  }

  /** A dropped part ends: listed, and its opening delimiter removed (kept whole when it can't be found). */
  #closePart(): void {
    const part = this.#part;
    this.#part = undefined;
    if (!part || part.keep) return;
    this.dropped.push({
      filename: part.node.filename || null,
      contentType: part.node.contentType || 'application/octet-stream',
      approxSize: decodedSize(part.bodyBytes, part.node.encoding),
    });
    if (part.node.root) return;
    const before = part.before && withoutLastDelimiter(part.before);
    if (before === undefined) {
      // Not a delimiter we recognise: keep the part's place, empty, rather than guess at the bytes.
      if (part.before) this.#emit(part.before);
      this.#emit(part.node.getHeaders());
    } else {
      this.#held = before;
    }
  }

  #release(): void {
    if (this.#held) this.#emit(this.#held);
    this.#held = undefined;
  }

  #emit(bytes: Buffer): void {
    this.#left -= bytes.length;
    this.push(bytes);
  }
}

/** text/plain or text/html (a part without Content-Type is text/plain) that is not an attachment. */
function isTextBody(node: MimeNode): boolean {
  const type = node.contentType || 'text/plain';
  return (type === 'text/plain' || type === 'text/html') && node.disposition !== 'attachment';
}

/** Base64 lines of 76 characters and CRLF carry 57 bytes per 78; other encodings about their length. */
function decodedSize(encodedBytes: number, encoding: string | false): number {
  return encoding === 'base64' ? Math.floor((encodedBytes * 57) / 78) : encodedBytes;
}

/**
 * `data` without its last line and the line break before it: the delimiter that opened the part being
 * dropped. Undefined when that last line is not a delimiter (`--` and the boundary).
 */
export function withoutLastDelimiter(data: Buffer): Buffer | undefined {
  let end = data.length;
  if (end > 0 && data[end - 1] === LF) end -= 1;
  if (end > 0 && data[end - 1] === CR) end -= 1;
  if (end === 0) return undefined;
  const lineStart = data.lastIndexOf(LF, end - 1) + 1;
  if (data[lineStart] !== DASH || data[lineStart + 1] !== DASH) return undefined;
  let cut = lineStart;
  if (cut > 0 && data[cut - 1] === LF) cut -= 1;
  if (cut > 0 && data[cut - 1] === CR) cut -= 1;
  return data.subarray(0, cut);
}
