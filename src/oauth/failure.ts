// What a failed token request means, decided in one place for every provider: RFC 6749 §5.2 error codes
// and HTTP status to a coded PophookError. The provider's own text is kept (it says which secret expired
// or which consent is missing) but cut short and scrubbed of every secret the request carried.
import { type ErrorCode, PophookError } from '../errors.ts';

export interface TokenFailureFacts {
  readonly credential: string;
  /** HTTP status of the token endpoint's answer, when one came. */
  readonly status?: number | undefined;
  /** RFC 6749 §5.2 `error`, when the answer carried one. */
  readonly error?: string | undefined;
  /** `error_description` or the library's message. */
  readonly description?: string | undefined;
  /** No answer at all: the connection, TLS or the time budget failed. */
  readonly transport?: boolean;
  readonly cause?: unknown;
  /** Values that must never appear in the error (client secret, refresh token, assertion…). */
  readonly secrets?: readonly string[];
}

const MAX_TEXT = 400;

const PERMANENT: Readonly<Record<string, ErrorCode>> = {
  invalid_client: 'OAUTH_INVALID_CLIENT',
  unauthorized_client: 'OAUTH_INVALID_CLIENT',
  invalid_grant: 'OAUTH_INVALID_GRANT',
  invalid_scope: 'OAUTH_INVALID_SCOPE',
};

/** The code for a failure: unreachable, 429, 5xx and `temporarily_unavailable` can pass; the rest won't. */
export function tokenFailureCode(facts: Omit<TokenFailureFacts, 'credential'>): ErrorCode {
  const { status, error } = facts;
  if (error !== undefined && PERMANENT[error] !== undefined) return PERMANENT[error];
  if (facts.transport || error === 'temporarily_unavailable' || error === 'server_error') {
    return 'OAUTH_ENDPOINT_UNAVAILABLE';
  }
  if (status !== undefined && (status === 429 || status === 408 || status >= 500)) {
    return 'OAUTH_ENDPOINT_UNAVAILABLE';
  }
  return 'OAUTH_TOKEN_REJECTED';
}

/** The provider's text, one line, bounded, with every secret replaced by ****. */
export function providerText(text: string | undefined, secrets: readonly string[] = []): string | undefined {
  if (text === undefined || text === '') return undefined;
  let clean = text.replace(/\s+/g, ' ').trim();
  for (const secret of secrets) if (secret.length >= 4) clean = clean.replaceAll(secret, '****');
  return clean.length > MAX_TEXT ? `${clean.slice(0, MAX_TEXT)}…` : clean;
}

export function tokenFailure(facts: TokenFailureFacts): PophookError {
  const code = tokenFailureCode(facts);
  const text = providerText(facts.description, facts.secrets);
  const what = facts.error ?? (facts.status === undefined ? 'no answer' : `HTTP ${facts.status}`);
  return new PophookError(
    code,
    `credential ${facts.credential}: token request failed (${what})${text ? `: ${text}` : ''}`,
    {
      ...(facts.cause === undefined ? {} : { cause: scrubbedCause(facts.cause, facts.secrets ?? []) }),
      details: {
        credential: facts.credential,
        ...(facts.status === undefined ? {} : { status: facts.status }),
        ...(facts.error === undefined ? {} : { error: facts.error }),
        ...(text === undefined ? {} : { providerText: text }),
      },
    },
  );
}

/**
 * Library errors carry the request they failed on (gaxios: the form body with the refresh token; MSAL:
 * headers): only a name, a code and a scrubbed message survive, so no log of the cause can leak a secret.
 */
function scrubbedCause(cause: unknown, secrets: readonly string[]): Error {
  const original = cause as { name?: string; code?: unknown; message?: string };
  const scrubbed = new Error(providerText(original.message, secrets) ?? '');
  scrubbed.name = original.name ?? 'Error';
  if (typeof original.code === 'string') Object.assign(scrubbed, { code: original.code });
  return scrubbed;
}
