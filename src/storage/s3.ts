// The AWS SDK for JavaScript v3's one home: HEAD, a streamed multipart upload from a file, and a pre-signed
// GET URL, against any S3-compatible store. Loaded on first use only (attachment-store.ts): the SDK is a
// large module graph, and a process whose webhooks keep attachments inline never pays for it.
import { createReadStream } from 'node:fs';
import { GetObjectCommand, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { StorageConfig } from '../config/index.ts';
import { PophookError } from '../errors.ts';

/** S3's smallest multipart part; one part in flight, so an upload holds about this much at a time. */
const PART_BYTES = 5 * 1024 * 1024;
const CONNECT_TIMEOUT_MS = 10_000;
/** Per request (one part); a stalled store fails the attempt instead of holding the job. */
const REQUEST_TIMEOUT_MS = 120_000;

export interface UploadFacts {
  contentType: string;
  sha256: string;
}

export class S3Objects {
  readonly #client: S3Client;

  constructor(private readonly config: StorageConfig) {
    this.#client = new S3Client({
      region: config.region,
      ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
      // A copy: the config is frozen, and the SDK notes where credentials came from on the object itself.
      ...(config.credentials === undefined ? {} : { credentials: { ...config.credentials } }),
      forcePathStyle: config.forcePathStyle,
      // The SDK's default CRC32 trailers (aws-chunked bodies) are not understood by every S3-compatible
      // store (older MinIO, Ceph, s3rver): checksums only where the API requires them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
    });
  }

  /** The object's size, or null when there is none under `key`. */
  async size(key: string, signal?: AbortSignal): Promise<number | null> {
    try {
      const head = await this.#client.send(
        new HeadObjectCommand({ Bucket: this.config.bucket, Key: key }),
        signal ? { abortSignal: signal } : {},
      );
      return head.ContentLength ?? 0;
    } catch (error) {
      // Without s3:ListBucket, S3 answers a missing key with 403, not 404: upload, and let the upload say
      // whether writing is refused too.
      const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
      if (status === 404 || status === 403) return null;
      throw this.#failure('HEAD', key, error);
    }
  }

  /** Streams the file in parts (lib-storage), so its bytes are never all in memory. */
  async upload(key: string, path: string, facts: UploadFacts, signal?: AbortSignal): Promise<void> {
    const upload = new Upload({
      client: this.#client,
      params: {
        Bucket: this.config.bucket,
        Key: key,
        Body: createReadStream(path),
        ContentType: facts.contentType,
        Metadata: { sha256: facts.sha256 },
      },
      queueSize: 1,
      partSize: PART_BYTES,
      leavePartsOnError: false,
    });
    const abort = () => void upload.abort().catch(() => {});
    signal?.addEventListener('abort', abort, { once: true });
    try {
      await upload.done();
    } catch (error) {
      throw this.#failure('upload', key, error);
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  /** A GET URL signed now for `expiresInSeconds` (SigV4 query signing: no request is made). */
  presign(key: string, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(this.#client, new GetObjectCommand({ Bucket: this.config.bucket, Key: key }), {
      expiresIn: expiresInSeconds,
    });
  }

  close(): void {
    this.#client.destroy();
  }

  /** A refusal (4xx) points at the bucket and credentials, anything else at the store's reachability. */
  #failure(action: string, key: string, error: unknown): PophookError {
    const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
    const refused = status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429;
    const name = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const where = `bucket ${this.config.bucket}${this.config.endpoint ? ` at ${this.config.endpoint}` : ''}`;
    return new PophookError(
      refused ? 'STORAGE_REFUSED' : 'STORAGE_UNAVAILABLE',
      `S3 ${action} of ${key} in ${where} failed (${name}); ` +
        (refused
          ? 'check storage.bucket, storage.region and the credentials'
          : 'check that storage.endpoint is reachable and the store is up'),
      { cause: error, details: { ...(status === undefined ? {} : { s3Status: status }), key } },
    );
  }
}
