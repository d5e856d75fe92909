// Attachments by reference in the config: a webhook's `attachments` policy and the top-level `storage`
// section (the S3-compatible store, src/storage/). schema.ts puts them in place; rules.ts checks them
// against each other (checkStorage, checkAttachments).
import * as z from 'zod';
import { boolean, documented as doc, duration, filePath, httpUrl, line, oneOf, size } from './fields.ts';

const DAY = 24 * 60 * 60_000;

// A webhook's attachments: inline base64 (today's payload) or, from a size on, objects in `storage` that
// the payload names by key and pre-signed URL (src/storage/). `skip` drops the content of small parts of
// given types (signature logos) in either mode.
const contentType = z
  .string({ error: 'expected a content type such as image/png or image/*' })
  .regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)$/i, {
    error: 'expected a content type such as image/png or image/*',
  })
  .transform((type) => type.toLowerCase());

export const attachments = z.strictObject({
  mode: doc(
    oneOf(['inline', 'reference']),
    'inline | reference',
    'inline: base64 in the JSON; reference: uploaded to storage, the payload carries key, URL and sha256',
  ).prefault('inline'),
  threshold: doc(
    size(1),
    'size',
    'reference mode: attachments of this size or more go to storage, smaller ones stay inline',
  ).prefault('256KB'),
  skip: doc(
    z.strictObject({
      types: doc(
        z.array(contentType).min(1, { error: 'expected at least one content type' }),
        'list of string',
        'content types (image/png, image/*) whose small parts are listed without content',
      ),
      below: doc(size(1), 'size', 'only parts smaller than this are skipped').prefault('16KB'),
    }),
    'section',
    'parts listed with `skipped: true` and no content (e.g. signature logos); off when absent',
  ).optional(),
});

// The S3-compatible object store of attachments by reference (AWS S3, MinIO, R2, Ceph…).
export const storageSection = z.strictObject({
  endpoint: doc(httpUrl(), 'url', 'S3 endpoint (MinIO, R2, Ceph…); absent: AWS S3 of region').optional(),
  region: doc(line('a region'), 'string', 'region of the bucket (MinIO and most others accept any)').prefault(
    'us-east-1',
  ),
  bucket: doc(
    z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
      error: 'expected an S3 bucket name: 3-63 lower-case letters, digits, . or -',
    }),
    'string',
    'the bucket; objects expire by its lifecycle rule (README: Attachments by reference)',
  ),
  prefix: doc(
    z.string().regex(/^([A-Za-z0-9!_.*'()-]+\/)*$/, {
      error: "expected path segments each ending in / (letters, digits, !_.*'()-), or empty",
    }),
    'string',
    'start of every object key, which goes on with mailbox/message sha256/attachment sha256',
  ).prefault('pophook/'),
  accessKeyId: doc(
    line('an access key id'),
    'string',
    'access key id; absent: the SDK default chain',
  ).optional(),
  accessKeyIdFile: doc(filePath(), 'path', 'file holding the access key id').optional(),
  secretAccessKey: doc(line('a secret access key'), 'secret', 'secret access key').optional(),
  secretAccessKeyFile: doc(filePath(), 'path', 'file holding the secret access key').optional(),
  forcePathStyle: doc(
    boolean(),
    'boolean',
    'path-style URLs (endpoint/bucket/key): MinIO, s3rver and most self-hosted stores need it',
  ).prefault(false),
  urlExpiry: doc(
    duration(1_000, 7 * DAY),
    'duration',
    'lifetime of each pre-signed GET URL in the payload (SigV4 allows 7 days at most)',
  ).prefault('7d'),
});
