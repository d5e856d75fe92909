// Attachments by reference: each attachment a parse thread wrote into a file becomes an object in the
// bucket, once per message. The key is deterministic, `<prefix><mailbox>/<message sha256>/<attachment
// sha256>`, so a retry or redelivery finds the object of an earlier attempt (HEAD, same size) and does not
// upload it again; objects expire by the bucket's lifecycle rule (README, "Attachments by reference"), not
// by pophook. The URL is signed afresh on every attempt, so a late retry still carries a working URL.
import type { StorageConfig } from '../config/index.ts';
import type { AttachmentReference, ReferencedParts } from '../payload/types.ts';
import type { S3Objects } from './s3.ts';

/** A placeholder's byte range in the JSON and the reference that replaces it. */
export interface PlacedReference {
  start: number;
  end: number;
  reference: AttachmentReference;
}

/** What an attempt's uploads did, for logs and tests. */
interface StoreCounts {
  uploaded: number;
  reused: number;
}

export class AttachmentStore {
  #objects: Promise<S3Objects> | null = null;

  constructor(private readonly config: StorageConfig) {}

  /** The object key of one attachment of one message. */
  keyOf(mailbox: string, messageSha256: string, attachmentSha256: string): string {
    return `${this.config.prefix}${mailbox}/${messageSha256}/${attachmentSha256}`;
  }

  /**
   * Uploads every referenced attachment that is not in the bucket yet, one at a time (so an attempt holds
   * one part in memory), and signs a GET URL for each. Throws STORAGE_* on the first failure: the webhook
   * is sent only after every upload succeeded.
   */
  async store(
    mailbox: string,
    parts: ReferencedParts,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ placed: PlacedReference[]; counts: StoreCounts }> {
    const objects = await this.#load();
    const counts: StoreCounts = { uploaded: 0, reused: 0 };
    const placed: PlacedReference[] = [];
    const expiresInSeconds = Math.floor(this.config.urlExpiryMs / 1000);
    for (const attachment of parts.attachments) {
      const key = this.keyOf(mailbox, parts.messageSha256, attachment.sha256);
      // Two equal attachments of one message share a key: the second finds the first's object.
      if ((await objects.size(key, options.signal)) === attachment.size) counts.reused++;
      else {
        await objects.upload(key, attachment.path, attachment, options.signal);
        counts.uploaded++;
      }
      // Taken before signing (the SDK signs with the system clock): the payload never promises too much.
      const signedAt = Date.now();
      const url = await objects.presign(key, expiresInSeconds);
      const expiresAt = new Date(signedAt + expiresInSeconds * 1000).toISOString();
      placed.push({ start: attachment.start, end: attachment.end, reference: { key, url, expiresAt } });
    }
    return { placed, counts };
  }

  async close(): Promise<void> {
    const objects = this.#objects;
    this.#objects = null;
    if (objects) (await objects.catch(() => null))?.close();
  }

  #load(): Promise<S3Objects> {
    this.#objects ??= import('./s3.ts').then(({ S3Objects }) => new S3Objects(this.config));
    // A failed import (a broken install) is not kept: the next attempt tries again.
    this.#objects.catch(() => {
      this.#objects = null;
    });
    return this.#objects;
  }
}
