// Google tokens, the one home of google-auth-library: the refresh-token grant of an OAuth client
// (OAuth2Client) and a Workspace service account with domain-wide delegation (JWT, subject = the mailbox).
// The library's requests go through our agent (extra CA, time budget) without its own retries, and to the
// configured token URL: OAuth2Client takes it as `endpoints.oauth2TokenUrl`; the JWT client posts to
// Google's fixed URL, which a request interceptor points at the configured one.
import { type AuthClient, JWT, OAuth2Client } from 'google-auth-library';
import {
  type GoogleCredential,
  type GoogleServiceAccountCredential,
  serviceAccountKeyProblem,
} from '../config/index.ts';
import { isPophookError, PophookError } from '../errors.ts';
import { tokenFailure } from './failure.ts';
import type { TokenHttp } from './http.ts';
import { readSecret } from './secrets.ts';
import type { AccessToken, GetTokenOptions, TokenProvider } from './types.ts';

/** Where google-auth-library's JWT client sends its grant (and the `aud` of the assertion). */
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

/** Every request of `client` through `http`, to `tokenUrl`, once, under `signal`. */
function route(client: AuthClient, http: TokenHttp, tokenUrl: string, signal: AbortSignal | undefined): void {
  client.transporter.interceptors.request.add({
    resolved: async (opts) => ({
      ...opts,
      url: String(opts.url) === GOOGLE_TOKEN_URL ? new URL(tokenUrl) : opts.url,
      fetchImplementation: http.fetch,
      retry: false,
      // The fleet cache decides when to try again; gaxios would retry a POST three times by itself.
      retryConfig: { ...opts.retryConfig, retry: 0 },
      ...(signal ? { signal } : {}),
    }),
  });
}

interface Answer {
  access_token?: string | null;
  expiry_date?: number | null;
}

/** Runs one grant and turns the library's outcome into an AccessToken or a coded failure. */
async function grant(id: string, secrets: string[], run: () => Promise<Answer>): Promise<AccessToken> {
  let answer: Answer;
  try {
    answer = await run();
  } catch (error) {
    if (isPophookError(error)) throw error;
    const response = (error as { response?: { status?: number; data?: unknown } }).response;
    const data = (response?.data ?? {}) as { error?: unknown; error_description?: unknown };
    throw tokenFailure({
      credential: id,
      status: response?.status,
      error: typeof data.error === 'string' ? data.error : undefined,
      description:
        typeof data.error_description === 'string' ? data.error_description : (error as Error).message,
      transport: response === undefined,
      cause: error,
      secrets,
    });
  }
  if (!answer.access_token || !answer.expiry_date) {
    throw tokenFailure({ credential: id, description: 'answer without access_token or expires_in' });
  }
  return { accessToken: answer.access_token, expiresAt: answer.expiry_date };
}

interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
}

/** The JSON key (checked at load, but a rotated file may hold anything). */
function parseKey(credential: GoogleServiceAccountCredential, text: string): ServiceAccountKey {
  const problem = serviceAccountKeyProblem(text);
  if (problem !== undefined) {
    throw new PophookError('CONFIG_UNREADABLE', `credential ${credential.id}: ${problem}`, {
      details: { credential: credential.id },
    });
  }
  return JSON.parse(text) as ServiceAccountKey;
}

export function googleRefreshProvider(credential: GoogleCredential, http: TokenHttp): TokenProvider {
  return {
    async getToken(options: GetTokenOptions = {}) {
      const clientSecret = await readSecret(credential.clientSecret, 'line');
      const refreshToken = await readSecret(credential.refreshToken, 'line');
      // A client per request holding only the refresh token, so getAccessToken() always asks the endpoint.
      const client = new OAuth2Client({
        clientId: credential.clientId,
        clientSecret,
        endpoints: { oauth2TokenUrl: credential.tokenUrl },
      });
      route(client, http, credential.tokenUrl, options.signal);
      client.setCredentials({ refresh_token: refreshToken });
      return grant(credential.id, [clientSecret, refreshToken], async () => {
        await client.getAccessToken();
        return client.credentials;
      });
    },
    close: () => http.close(),
  };
}

export function googleServiceAccountProvider(
  credential: GoogleServiceAccountCredential,
  subject: string,
  http: TokenHttp,
): TokenProvider {
  return {
    async getToken(options: GetTokenOptions = {}) {
      const key = parseKey(credential, await readSecret(credential.serviceAccountKey, 'document'));
      const client = new JWT({
        email: key.client_email,
        key: key.private_key,
        ...(key.private_key_id ? { keyId: key.private_key_id } : {}),
        scopes: [credential.scope],
        // Domain-wide delegation: the token acts as the mailbox's user.
        subject,
      });
      route(client, http, credential.tokenUrl, options.signal);
      return grant(credential.id, [key.private_key], () => client.authorize());
    },
    close: () => http.close(),
  };
}
