// The error catalog of pophook outside the POP3 client (src/pop3 has its own, so it can stand alone): one
// base class and a closed union of stable codes, each with whether a retry can help and a one-line
// description. Retryability is decided here, by code, and nowhere else (isRetryable).

const CATALOG = {
  CONFIG_INVALID: [false, 'the configuration file breaks the schema (every issue is listed with its path)'],
  CONFIG_UNREADABLE: [false, 'the configuration file, or a passwordFile/secretFile it names, cannot be read'],
  WEBHOOK_HTTP_4XX: [false, 'the webhook answered a 4xx that retrying will not change (dead letter)'],
  WEBHOOK_HTTP_RETRYABLE: [true, 'the webhook answered 408, 425, 429 or 5xx'],
  WEBHOOK_REDIRECT: [false, 'the webhook answered a 3xx; redirects are not followed'],
  WEBHOOK_TIMEOUT: [true, 'the webhook did not answer within its timeout'],
  WEBHOOK_NETWORK: [true, 'the webhook could not be reached (DNS, connect, reset, TLS)'],
  WEBHOOK_INVALID_REQUEST: [false, 'the URL, a header, the secret or the webhook-id is malformed (no retry)'],
  PAYLOAD_PARSE_TIMEOUT: [false, 'parsing the message took longer than its time budget'],
  PAYLOAD_PARSE_FAILED: [false, 'the message could not be parsed, or its parser crashed'],
  PAYLOAD_LIMIT: [false, 'the message exceeds a parse limit (parts, nesting, header size)'],
  PAYLOAD_POOL_CLOSED: [true, 'the parser pool closed before the parse finished (shutdown); retry elsewhere'],
  PAYLOAD_THREAD_START_FAILED: [true, 'no parse thread could start (memory, a missing file); retry later'],
  RAW_MISSING: [
    true,
    'the raw message is gone from Redis (expired or flushed); the next poll fetches it again',
  ],
  DEDUPE_FIRST_IN_FLIGHT: [
    true,
    'another copy of this email (same contentKey) is being sent to the webhook; this copy waits for its outcome',
  ],
  LEDGER_CORRUPT: [false, 'a ledger entry in Redis is not one pophook wrote; its state is not guessed'],
  LOCK_LOST: [true, 'the mailbox lock expired or was taken by another session'],
  REDIS_UNAVAILABLE: [true, 'Redis could not be reached (refused, unreachable, closed)'],
  MAILBOX_UNKNOWN: [false, 'no mailbox with that id in the configuration'],
  OAUTH_INVALID_CLIENT: [
    false,
    'the token endpoint refused the client (invalid_client, unauthorized_client: wrong id, expired secret or certificate, wrong tenant)',
  ],
  OAUTH_INVALID_GRANT: [
    false,
    'the token endpoint refused the grant (invalid_grant: revoked refresh token or consent, delegation not allowed)',
  ],
  OAUTH_INVALID_SCOPE: [
    false,
    'the token endpoint refused the scope (invalid_scope, or the permission is not granted)',
  ],
  OAUTH_TOKEN_REJECTED: [
    false,
    'the token endpoint refused the request for another reason, or answered without a token',
  ],
  OAUTH_ENDPOINT_UNAVAILABLE: [
    true,
    'the token endpoint could not be reached, timed out or answered 429/5xx (retry later)',
  ],
  WEBHOOK_UNKNOWN: [false, 'no webhook with that id in the configuration'],
  STORAGE_UNAVAILABLE: [
    true,
    'object storage (S3) could not be reached, timed out or answered 5xx: check storage.endpoint and the store (retried like a failed POST)',
  ],
  STORAGE_REFUSED: [
    true,
    'object storage (S3) refused a request (403 access denied, 404 no such bucket…): check storage.bucket, region and credentials (retried like a failed POST)',
  ],
  ROUTE_UNMATCHED: [
    false,
    'no route of the mailbox matched the message and none is a default route (dead letter: add one, then replay)',
  ],
} as const satisfies Record<string, readonly [retryable: boolean, description: string]>;

export type ErrorCode = keyof typeof CATALOG;

export interface PophookErrorOptions {
  cause?: unknown;
  /** Extra facts for logs (never secrets): status code, mailbox id, path… */
  details?: Record<string, unknown>;
}

export class PophookError extends Error {
  override readonly name = 'PophookError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: PophookErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = CATALOG[code][0];
    this.details = options.details ?? {};
  }
}

export function isPophookError(error: unknown, code?: ErrorCode): error is PophookError {
  return error instanceof PophookError && (code === undefined || error.code === code);
}

/**
 * Whether another attempt can help: a coded error (ours, or the POP3 client's with its own catalog) says so
 * by its code; BullMQ's UnrecoverableError (matched by name: this module stays free of libraries) never
 * does; anything else (a Redis hiccup, a socket reset) is taken as passing.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof PophookError) return error.retryable;
  const flag = (error as { retryable?: unknown } | null)?.retryable;
  if (typeof flag === 'boolean') return flag;
  return !(error instanceof Error && error.name === 'UnrecoverableError');
}
