// The error catalog of pophook outside the POP3 client (src/pop3 has its own, so it can stand alone):
// one base class, a closed union of stable codes, and whether a retry can help.

export const ERROR_CODES = {
  CONFIG_INVALID: 'the configuration file breaks the schema (every issue is listed with its path)',
  CONFIG_UNREADABLE: 'the configuration file, or a passwordFile/secretFile it names, cannot be read',
  CONFIG_ENV_MISSING: 'a ${VAR} in the configuration names an unset environment variable',
  WEBHOOK_HTTP_4XX: 'the webhook answered a 4xx that retrying will not change (dead letter)',
  WEBHOOK_HTTP_RETRYABLE: 'the webhook answered 408, 425, 429 or 5xx',
  WEBHOOK_REDIRECT: 'the webhook answered a 3xx; redirects are not followed',
  WEBHOOK_TIMEOUT: 'the webhook did not answer within its timeout',
  WEBHOOK_NETWORK: 'the webhook could not be reached (DNS, connect, reset, TLS)',
  WEBHOOK_INVALID_REQUEST: 'the URL, a header, the secret or the webhook-id is malformed (no retry)',
  PAYLOAD_PARSE_TIMEOUT: 'parsing the message took longer than its time budget',
  PAYLOAD_PARSE_FAILED: 'the message could not be parsed, or its parser crashed',
  PAYLOAD_LIMIT: 'the message exceeds a parse limit (parts, nesting, header size)',
  PAYLOAD_POOL_CLOSED: 'the parser pool closed before the parse finished (shutdown); retry elsewhere',
  RAW_MISSING: 'the raw message is gone from Redis (expired or flushed); the next poll fetches it again',
  LEDGER_CORRUPT: 'a ledger entry in Redis is not one pophook wrote; its state is not guessed',
  LOCK_LOST: 'the mailbox lock expired or was taken by another session',
  REDIS_UNAVAILABLE: 'Redis refused or dropped a write the step depends on',
  MAILBOX_UNKNOWN: 'no mailbox with that id in the configuration',
  OAUTH_INVALID_CLIENT:
    'the token endpoint refused the client (invalid_client, unauthorized_client: wrong id, expired secret or certificate, wrong tenant)',
  OAUTH_INVALID_GRANT:
    'the token endpoint refused the grant (invalid_grant: revoked refresh token or consent, delegation not allowed)',
  OAUTH_INVALID_SCOPE: 'the token endpoint refused the scope (invalid_scope, or the permission is not granted)',
  OAUTH_TOKEN_REJECTED: 'the token endpoint refused the request for another reason, or answered without a token',
  OAUTH_ENDPOINT_UNAVAILABLE: 'the token endpoint could not be reached, timed out or answered 429/5xx (retry later)',
  USAGE: 'the command line is wrong',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface PophookErrorOptions {
  retryable?: boolean;
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
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }
}

export function isPophookError(error: unknown, code?: ErrorCode): error is PophookError {
  return error instanceof PophookError && (code === undefined || error.code === code);
}
