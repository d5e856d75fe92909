// The attachment list's entries for one MIME part: the part itself, and for a TNEF part (winmail.dat)
// the files unpacked from it after it (source "tnef"), the container kept or dropped as the mailbox says.
// Shared by the one-Buffer build and the spool, so both list the same entries. Unpacked files count
// against maxParts like MIME parts; their bytes are inside the message, so its size bounds them too.
import { PophookError } from '../errors.ts';
import { contentTypeOf } from './header-text.ts';
import type { AttachmentHead } from './mail-parser.ts';
import { isTnef, unpackTnef } from './tnef.ts';
import type { AttachmentSource, PayloadOptions, PayloadWarning } from './types.ts';

export type EntryHead = AttachmentHead & { source: AttachmentSource };

export interface Entry {
  head: EntryHead;
  content: Buffer;
}

/** What the entries of one message share: the parts still allowed, and the warnings they add. */
export class EntryBudget {
  readonly warnings = new Set<PayloadWarning>();
  constructor(
    private remaining: number,
    private readonly limit: number,
    readonly options: PayloadOptions,
  ) {}

  /** Counts unpacked files; over maxParts is PAYLOAD_LIMIT, as for a MIME part. */
  take(files: number): void {
    this.remaining -= files;
    if (this.remaining < 0) {
      throw new PophookError('PAYLOAD_LIMIT', `the message exceeds maxParts (${this.limit})`, {
        details: { limit: 'maxParts', value: this.limit },
      });
    }
  }

  get room(): number {
    return Math.max(0, this.remaining);
  }
}

export const needsWholeContent = (head: AttachmentHead): boolean => isTnef(head.contentType, head.filename);

/** The entries of one part; `content` is whole (the spool collects a TNEF part before calling this). */
export function entriesOf(head: AttachmentHead, content: Buffer, budget: EntryBudget): Entry[] {
  const part: Entry = { head: { ...head, source: 'mime' }, content };
  if (!needsWholeContent(head)) return [part];
  const { files, truncated } = unpackTnef(content, budget.room + 1);
  budget.take(files.length);
  if (truncated) budget.warnings.add('tnef-unreadable');
  const unpacked = files.map(
    (file): Entry => ({
      head: {
        filename: file.filename,
        contentType: file.mimeType ?? contentTypeOf(file.filename),
        contentId: file.contentId,
        disposition: 'attachment',
        source: 'tnef',
      },
      content: file.content,
    }),
  );
  // A container that could not be read whole is always kept: it may hold what the walk missed.
  const keep = budget.options.winmailDat !== 'drop' || truncated || files.length === 0;
  return keep ? [part, ...unpacked] : unpacked;
}
