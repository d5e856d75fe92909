// Standard Webhooks signing (https://www.standardwebhooks.com, "Signature scheme" and "Webhook headers"):
// HMAC-SHA256 over `${webhook-id}.${timestamp}.${body}` with the key a `whsec_<base64>` secret encodes.
// The body is bytes, fed to the HMAC chunk by chunk, so a streamed body never has to be joined.
import { createHmac, createSecretKey, type Hmac } from 'node:crypto';
import { PophookError } from '../errors.ts';
import { memoized } from '../memo.ts';

const SECRET_PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
// The spec asks that neither id nor timestamp can carry a `.` (it delimits the signed content); header
// values must also be visible ASCII without spaces.
const WEBHOOK_ID = /^[\x21-\x2d\x2f-\x7e]+$/;

/** One secret, or several during a key rotation (the header then carries one signature per key). */
export type WebhookSecret = string | readonly string[];

export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
  'content-type': 'application/json';
}

/** The HMAC key a `whsec_<base64>` secret encodes (the prefix is optional, as in the reference libraries). */
export function decodeSecret(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : Buffer.alloc(0);
  if (key.length === 0) throw invalidSecret();
  return key;
}

/**
 * The `webhook-signature` value: `v1,<base64>` per key, space-separated (spec: "a space delimited list of
 * signatures ... to support zero downtime secret rotation"). `body` may be an iterable of chunks; it is
 * walked once, whatever the number of keys.
 */
export function signatureHeader(
  secret: WebhookSecret,
  webhookId: string,
  timestampSeconds: number,
  body: Buffer | Iterable<Buffer>,
): string {
  const hmacs = startHmacs(secret, webhookId, timestampSeconds);
  const chunks = Buffer.isBuffer(body) ? [body] : body;
  for (const chunk of chunks) {
    for (const hmac of hmacs) hmac.update(chunk);
  }
  return signatureList(hmacs);
}

/** signatureHeader over a body read asynchronously (a spooled file), walked once. */
export async function signatureHeaderOf(
  secret: WebhookSecret,
  webhookId: string,
  timestampSeconds: number,
  body: AsyncIterable<Buffer>,
): Promise<string> {
  const hmacs = startHmacs(secret, webhookId, timestampSeconds);
  for await (const chunk of body) {
    for (const hmac of hmacs) hmac.update(chunk);
  }
  return signatureList(hmacs);
}

// Each secret decoded once: a webhook signs every delivery with the same few keys.
const hmacKey = memoized((secret: string) => createSecretKey(decodeSecret(secret)));

// Loops, not map: TurboFan's inlined map returns holey arrays, whose readers then deoptimize once optimized
// (docs/performance.md, "the JIT's warm-up"); these run once per delivery.
function startHmacs(secret: WebhookSecret, webhookId: string, timestampSeconds: number): Hmac[] {
  assertSignable(webhookId, timestampSeconds);
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0) throw invalidSecret();
  const hmacs: Hmac[] = [];
  for (const one of secrets) {
    hmacs.push(createHmac('sha256', hmacKey(one)).update(`${webhookId}.${timestampSeconds}.`));
  }
  return hmacs;
}

/** `v1,<base64>` per HMAC, space-separated. */
function signatureList(hmacs: readonly Hmac[]): string {
  let list = '';
  for (const hmac of hmacs) list += `${list === '' ? '' : ' '}v1,${hmac.digest('base64')}`;
  return list;
}

/** Every header the spec defines, plus the JSON content type, for one attempt. */
export function webhookHeaders(
  secret: WebhookSecret,
  webhookId: string,
  timestampSeconds: number,
  body: Buffer | Iterable<Buffer>,
): WebhookHeaders {
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signatureHeader(secret, webhookId, timestampSeconds, body),
    'content-type': 'application/json',
  };
}

function invalidSecret(): PophookError {
  // Never echo the secret, not even a part of it.
  return new PophookError('WEBHOOK_INVALID_REQUEST', 'the webhook secret is not whsec_<base64>', {
    details: { field: 'secret' },
  });
}

function assertSignable(webhookId: string, timestampSeconds: number): void {
  if (!WEBHOOK_ID.test(webhookId)) {
    throw new PophookError('WEBHOOK_INVALID_REQUEST', 'the webhook-id must be visible ASCII without "."', {
      details: { field: 'webhook-id' },
    });
  }
  // "integer unix timestamp (seconds since epoch)"
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new PophookError('WEBHOOK_INVALID_REQUEST', 'the webhook timestamp must be whole seconds', {
      details: { field: 'webhook-timestamp' },
    });
  }
}
