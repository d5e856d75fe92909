// A webhook's attachment policy inside a parse thread: which attachments keep their bytes inline, which go
// to object storage by reference, which are listed without content (skipped). A referenced attachment's
// bytes go into a file of the attempt's directory, and its `reference` in the JSON is a placeholder object
// the caller replaces once the object is uploaded (src/storage/): the URL is signed there, not here. The
// placeholder carries a random nonce per parse, so no text of the message can pose as one.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { AttachmentsConfig } from '../config/index.ts';
import type { AttachmentPlacement, AttachmentReference, ReferencedAttachment } from './types.ts';

export type Placement = 'inline' | 'reference' | 'skip';

function skipsType(policy: AttachmentsConfig, contentType: string): boolean {
  const type = contentType.toLowerCase();
  return (policy.skip?.types ?? []).some((t) =>
    t.endsWith('/*') ? type.startsWith(t.slice(0, -1)) : type === t,
  );
}

/** Where an attachment of `size` bytes goes. */
export function placementOf(policy: AttachmentsConfig, contentType: string, size: number): Placement {
  if (skipsType(policy, contentType) && size < policy.skip!.belowBytes) return 'skip';
  return policy.mode === 'reference' && size >= policy.referenceFromBytes ? 'reference' : 'inline';
}

/**
 * How many bytes a streamed attachment must show before its placement is known: once this many came,
 * placementOf(…, this) is the placement whatever follows (0: inline from the first byte).
 */
export function decisionBytes(policy: AttachmentsConfig, contentType: string): number {
  return Math.max(
    policy.mode === 'reference' ? policy.referenceFromBytes : 0,
    skipsType(policy, contentType) ? policy.skip!.belowBytes : 0,
  );
}

/** An attachment's bytes in a file of the attempt's directory, written piece by piece. */
export class ReferenceFile {
  readonly path: string;
  #fd: number | null;

  constructor(dir: string, index: number) {
    this.path = join(dir, `attachment-${index}`);
    this.#fd = openSync(this.path, 'wx', 0o600);
  }

  write(piece: Uint8Array): void {
    if (this.#fd === null) throw new Error('the attachment file is closed');
    for (let offset = 0; offset < piece.length; )
      offset += writeSync(this.#fd, piece, offset, piece.length - offset);
  }

  close(): void {
    if (this.#fd === null) return;
    closeSync(this.#fd);
    this.#fd = null;
  }
}

type Facts = Omit<ReferencedAttachment, 'start' | 'end'>;

/** One parse's referenced attachments: their placeholders, files and where the placeholders sit. */
export class References {
  readonly #nonce = randomBytes(16).toString('hex');
  readonly #pending: Array<{ placeholder: string; facts: Facts }> = [];
  readonly #placed: ReferencedAttachment[] = [];

  constructor(readonly placement: AttachmentPlacement) {}

  get policy(): AttachmentsConfig {
    return this.placement.policy;
  }

  /** A file for the next referenced attachment's bytes. */
  file(): ReferenceFile {
    const dir = this.placement.dir;
    if (dir === undefined) throw new Error('reference mode needs a directory for the attachment files');
    return new ReferenceFile(dir, this.#pending.length + this.#placed.length);
  }

  /** What stands for this attachment's reference in the payload until the caller replaces it. */
  add(facts: Facts): AttachmentReference {
    const token = `pophook-reference-${this.#nonce}-${this.#pending.length + this.#placed.length}`;
    const stand = { key: token, url: token, expiresAt: token };
    this.#pending.push({ placeholder: JSON.stringify(stand), facts });
    return stand;
  }

  /** The streamed form knows where it writes the placeholder: `start` is its offset in the JSON. */
  addAt(facts: Facts, start: number): string {
    const placeholder = JSON.stringify(this.add(facts));
    this.#pending.pop();
    this.#placed.push({ ...facts, start, end: start + Buffer.byteLength(placeholder) });
    return placeholder;
  }

  /** Every referenced attachment with its placeholder's offsets; `body` is the JSON when not streamed. */
  located(body?: Buffer): ReferencedAttachment[] {
    const found = this.#pending.map(({ placeholder, facts }) => {
      const start = body?.indexOf(placeholder) ?? -1;
      if (start < 0) throw new Error('a reference placeholder is missing from the JSON');
      return { ...facts, start, end: start + Buffer.byteLength(placeholder) };
    });
    return [...this.#placed, ...found].sort((a, b) => a.start - b.start);
  }
}
