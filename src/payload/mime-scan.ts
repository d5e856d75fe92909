// A cheap, linear pre-scan of the raw message bytes that enforces the structure limits (parts, nesting,
// header block size) before mailparser sees the message, and notes anomalies the payload reports as
// warnings. It follows MIME structure the way the splitters do (RFC 2046 §5.1.1: a delimiter line of any
// open multipart ends everything nested below it) but errs on the side of counting more, never fewer.
// On the way it notes where the parts of a delivery report are (bounce.ts reads them): mailparser folds
// a message/delivery-status part into `text` and keeps no trace of it.
import { PophookError } from '../errors.ts';
import { firstField, parseParameterized, splitFields } from './header-fields.ts';
import { isSupportedCharset } from './header-text.ts';
import type { PayloadWarning, StructureLimits } from './types.ts';

export interface MimeScan {
  /** Offset of the root body: just past the empty line that ends the root header block (or the end). */
  bodyStart: number;
  /** The root header block, latin1 (one char per byte), without the empty line. */
  rootHeader: string;
  /** The root part is multipart/* without a usable boundary, so parsers see no body at all. */
  rootMissingBoundary: boolean;
  parts: number;
  maxDepth: number;
  warnings: Set<PayloadWarning>;
  /** The first parts of the types in REPORT_TYPES, in message order, for bounce.ts. */
  reportParts: ReportPart[];
}

export interface ReportPart {
  /** The content type, lower-case, without parameters. */
  type: string;
  /** Content-Transfer-Encoding, lower-case ('' when absent). */
  encoding: string;
  /** Byte range of the part's body in the raw message (for an embedded message: header and body). */
  start: number;
  end: number;
}

// RFC 3464 §2 (message/delivery-status), RFC 6533 §6 (its UTF-8 form), RFC 6522 §4 (text/rfc822-headers)
// and the returned message itself.
const REPORT_TYPES = new Set([
  'message/delivery-status',
  'message/global-delivery-status',
  'text/rfc822-headers',
  'message/rfc822',
  'message/global',
]);
const MAX_REPORT_PARTS = 8;

/** A container the scan is inside: a multipart (with its boundary) or an embedded message (none). */
interface Frame {
  boundary: string | null;
}

// RFC 2045 §6.1: only identity encodings leave an embedded message readable as header lines.
const IDENTITY_ENCODINGS = new Set(['', '7bit', '8bit', 'binary']);

export function scanMime(raw: Buffer, limits: StructureLimits): MimeScan {
  return new Scanner(raw, limits).run();
}

class Scanner {
  private readonly stack: Frame[] = [];
  /** Open boundaries and how many frames use each, so most lines are rejected with one lookup. */
  private readonly open = new Map<string, number>();
  private longestBoundary = 0;
  private inHeader = true;
  private headerStart = 0;
  private readonly result: MimeScan = {
    bodyStart: -1,
    rootHeader: '',
    rootMissingBoundary: false,
    parts: 1,
    maxDepth: 0,
    warnings: new Set(),
    reportParts: [],
  };
  /** The report part whose body the scan is in, until the next delimiter line ends it. */
  private openReport: ReportPart | null = null;

  constructor(
    private readonly raw: Buffer,
    private readonly limits: StructureLimits,
  ) {}

  run(): MimeScan {
    const { raw } = this;
    if (raw.includes(0)) this.result.warnings.add('nul-bytes');
    let pos = 0;
    while (pos < raw.length) {
      const newline = raw.indexOf(0x0a, pos);
      const next = newline < 0 ? raw.length : newline + 1;
      this.line(pos, next);
      pos = next;
    }
    if (this.inHeader) this.endHeader(raw.length, raw.length);
    if (this.stack.some((frame) => frame.boundary !== null))
      this.result.warnings.add('unterminated-multipart');
    return this.result;
  }

  private line(start: number, next: number): void {
    let end = next;
    while (end > start && (this.raw[end - 1] === 0x0a || this.raw[end - 1] === 0x0d)) end--;
    if (this.isDelimiter(start, end)) return;
    if (!this.inHeader) return;
    if (next - this.headerStart > this.limits.maxHeaderBytes) {
      throw limitError('maxHeaderBytes', this.limits.maxHeaderBytes);
    }
    if (end === start) this.endHeader(start, next);
  }

  /** RFC 2046 §5.1.1: `--boundary` starts the next part, `--boundary--` closes the multipart. */
  private isDelimiter(start: number, end: number): boolean {
    const { raw } = this;
    if (this.open.size === 0 || raw[start] !== 0x2d || raw[start + 1] !== 0x2d) return false;
    while (end > start + 2 && (raw[end - 1] === 0x20 || raw[end - 1] === 0x09)) end--; // transport padding
    if (end - start - 2 > this.longestBoundary + 2) return false;
    const text = raw.toString('latin1', start + 2, end);
    if (this.open.has(text) || (text.endsWith('--') && this.open.has(text.slice(0, -2))))
      this.endReport(start);
    if (this.open.has(text)) {
      this.popAbove(text);
      this.startPart(end);
      return true;
    }
    if (text.endsWith('--') && this.open.has(text.slice(0, -2))) {
      this.popAbove(text.slice(0, -2));
      this.pop();
      this.inHeader = false;
      return true;
    }
    return false;
  }

  private startPart(lineEnd: number): void {
    this.result.parts++;
    if (this.result.parts > this.limits.maxParts) throw limitError('maxParts', this.limits.maxParts);
    this.inHeader = true;
    // The delimiter's own line break is not part of the next header block.
    const newline = this.raw.indexOf(0x0a, lineEnd);
    this.headerStart = newline < 0 ? this.raw.length : newline + 1;
  }

  /** Ends the header block at `start` (the empty line, or the end); the body starts at `next`. */
  private endHeader(start: number, next: number): void {
    this.inHeader = false;
    const block = this.raw.toString('latin1', this.headerStart, start);
    const root = this.result.bodyStart < 0;
    if (root) {
      this.result.bodyStart = next;
      this.result.rootHeader = block;
    }
    const fields = splitFields(block);
    const type = parseParameterized(firstField(fields, 'content-type') ?? 'text/plain');
    const charset = type.params.get('charset');
    if (charset !== undefined && !isSupportedCharset(charset)) this.result.warnings.add('invalid-charset');
    if (type.value.startsWith('multipart/')) {
      // mailsplit counts a non-ASCII boundary as none: it cannot match a delimiter line reliably.
      const boundary = (type.params.get('boundary') ?? '').trimEnd();
      if (boundary === '' || /[^\x20-\x7e]/.test(boundary)) {
        this.result.warnings.add('missing-boundary');
        if (root) this.result.rootMissingBoundary = true;
        return;
      }
      this.push({ boundary });
      return;
    }
    const encoding = (firstField(fields, 'content-transfer-encoding') ?? '').trim().toLowerCase();
    if (
      REPORT_TYPES.has(type.value) &&
      this.openReport === null &&
      this.result.reportParts.length < MAX_REPORT_PARTS
    ) {
      this.openReport = { type: type.value, encoding, start: next, end: this.raw.length };
      this.result.reportParts.push(this.openReport);
    }
    if (
      (type.value === 'message/rfc822' || type.value === 'message/global') &&
      IDENTITY_ENCODINGS.has(encoding)
    ) {
      // The embedded message is one more part whose header block starts right here.
      this.push({ boundary: null });
      this.result.parts++;
      if (this.result.parts > this.limits.maxParts) throw limitError('maxParts', this.limits.maxParts);
      this.inHeader = true;
      this.headerStart = next;
    }
  }

  /** The delimiter line at `lineStart` ends the open report part; its line break belongs to the delimiter. */
  private endReport(lineStart: number): void {
    if (this.openReport === null) return;
    let end = lineStart;
    if (this.raw[end - 1] === 0x0a) end--;
    if (this.raw[end - 1] === 0x0d) end--;
    this.openReport.end = Math.max(this.openReport.start, end);
    this.openReport = null;
  }

  private push(frame: Frame): void {
    this.stack.push(frame);
    if (this.stack.length > this.limits.maxDepth) throw limitError('maxDepth', this.limits.maxDepth);
    this.result.maxDepth = Math.max(this.result.maxDepth, this.stack.length);
    if (frame.boundary === null) return;
    this.open.set(frame.boundary, (this.open.get(frame.boundary) ?? 0) + 1);
    this.longestBoundary = Math.max(this.longestBoundary, frame.boundary.length);
  }

  private pop(): void {
    const frame = this.stack.pop();
    if (frame === undefined || frame.boundary === null) return;
    const count = (this.open.get(frame.boundary) ?? 1) - 1;
    if (count === 0) this.open.delete(frame.boundary);
    else this.open.set(frame.boundary, count);
  }

  /** Closes every container nested inside the innermost multipart that owns `boundary`. */
  private popAbove(boundary: string): void {
    while (this.stack.length > 0 && this.stack.at(-1)?.boundary !== boundary) this.pop();
  }
}

function limitError(limit: keyof StructureLimits, value: number): PophookError {
  return new PophookError('PAYLOAD_LIMIT', `the message exceeds ${limit} (${value})`, {
    details: { limit, value },
  });
}
