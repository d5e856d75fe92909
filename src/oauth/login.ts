// The one place a mailbox login meets OAuth: which access token a mailbox logs in with (its credential's,
// through the token cache, or the static accessToken), and the single retry after a refusal. A server that
// refuses a token that was valid a moment ago (revoked, clock skew) gets one forced refresh and one more
// login, never a loop.
import type { CredentialConfig, MailboxConfig } from '../config/index.ts';
import { PophookError } from '../errors.ts';
import { isPop3Error } from '../pop3/index.ts';
import type { TokenRequest } from './cache.ts';
import { createTokenProvider } from './providers.ts';
import type { AccessToken } from './types.ts';

/** What a login needs from a token cache (TokenCache, or uncachedTokens() for one-shot commands). */
export interface MailboxTokens {
  token(credentialId: string, subject: string, request?: TokenRequest): Promise<AccessToken>;
}

/** Runs `login` with the mailbox's access token (undefined: a password mailbox) and retries it once. */
export async function withMailboxToken<T>(
  mailbox: MailboxConfig,
  tokens: MailboxTokens | undefined,
  login: (accessToken: string | undefined) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const credential = mailbox.credential;
  if (credential === undefined) return login(mailbox.accessToken);
  if (tokens === undefined) {
    throw new PophookError(
      'CONFIG_INVALID',
      `mailbox ${mailbox.id} names a credential but no token cache was given`,
    );
  }
  const request = signal ? { signal } : {};
  const first = await tokens.token(credential, mailbox.username, request);
  try {
    return await login(first.accessToken);
  } catch (error) {
    if (!isPop3Error(error, 'POP3_AUTH_FAILED')) throw error;
    const second = await tokens.token(credential, mailbox.username, {
      ...request,
      rejected: first.accessToken,
    });
    return login(second.accessToken);
  }
}

/** Tokens straight from the providers, for `check` and `probe`: no Redis, every call a token request. */
export function uncachedTokens(credentials: Readonly<Record<string, CredentialConfig>>): MailboxTokens {
  return {
    async token(credentialId, subject, request = {}) {
      const credential = credentials[credentialId];
      if (credential === undefined) {
        throw new PophookError('CONFIG_INVALID', `no credential ${credentialId} in the configuration`);
      }
      const provider = createTokenProvider(credential, subject);
      try {
        return await provider.getToken({
          forceRefresh: true,
          ...(request.signal ? { signal: request.signal } : {}),
        });
      } finally {
        await provider.close();
      }
    },
  };
}

/**
 * Which step of an OAuth login failed, for `check` and `probe`: the token endpoint (unreachable, client
 * or grant refused), the scope, the SASL exchange (XOAUTH2/OAUTHBEARER not offered or broken), or the
 * mailbox permission (a fresh token refused: no Add-MailboxPermission, POP disabled, delegation missing).
 */
export function oauthLoginStep(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'OAUTH_INVALID_SCOPE') return 'scope';
  if (typeof code === 'string' && code.startsWith('OAUTH_')) return 'token endpoint';
  if (code === 'POP3_SASL_FAILED' || code === 'POP3_AUTH_UNSUPPORTED') return 'SASL exchange';
  if (code === 'POP3_AUTH_FAILED') return 'mailbox permission';
  return undefined;
}
