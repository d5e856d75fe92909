// Any OAuth 2.0 token endpoint (Dovecot's OAuth2 passdb behind Keycloak, a company IdP): the client
// credentials grant (RFC 6749 §4.4) or the refresh token grant (§6), client authentication by HTTP Basic
// (§2.3.1, which every server must support) or in the form, the answer read as §5.1 / §5.2.
import type { OAuth2Credential } from '../config/index.ts';
import { tokenFailure } from './failure.ts';
import type { TokenHttp } from './http.ts';
import { readSecret } from './secrets.ts';
import type { AccessToken, GetTokenOptions, TokenProvider } from './types.ts';

/** RFC 6749 §5.1 makes expires_in optional; without it the token is trusted this long at most. */
const ASSUMED_LIFETIME_MS = 10 * 60_000;

/** §2.3.1: id and secret are form-urlencoded before they are joined and base64'd. */
function basicAuth(id: string, secret: string): string {
  const encode = (text: string) => encodeURIComponent(text).replaceAll('%20', '+');
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

async function requestParts(credential: OAuth2Credential) {
  const form = new URLSearchParams({ grant_type: credential.grant });
  const secrets: string[] = [];
  if (credential.grant === 'refresh_token') {
    const refreshToken = await readSecret(credential.refreshToken!, 'line');
    form.set('refresh_token', refreshToken);
    secrets.push(refreshToken);
  }
  if (credential.scope !== undefined) form.set('scope', credential.scope);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  const secret = credential.clientSecret && (await readSecret(credential.clientSecret, 'line'));
  if (secret !== undefined) secrets.push(secret);
  if (secret !== undefined && credential.clientAuth === 'basic') {
    headers.authorization = basicAuth(credential.clientId, secret);
  } else {
    form.set('client_id', credential.clientId);
    if (secret !== undefined) form.set('client_secret', secret);
  }
  return { form, headers, secrets };
}

export function genericProvider(credential: OAuth2Credential, http: TokenHttp): TokenProvider {
  return {
    async getToken(options: GetTokenOptions = {}): Promise<AccessToken> {
      const { form, headers, secrets } = await requestParts(credential);
      const started = Date.now();
      let answer: Awaited<ReturnType<TokenHttp['send']>>;
      try {
        answer = await http.send(credential.tokenUrl, {
          method: 'POST',
          headers,
          body: form.toString(),
          signal: options.signal,
        });
      } catch (error) {
        throw tokenFailure({ credential: credential.id, transport: true, cause: error, secrets });
      }
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(answer.body) as Record<string, unknown>;
      } catch {
        // Not JSON (a proxy's error page): the status decides.
      }
      const token = body.access_token;
      if (answer.status === 200 && typeof token === 'string' && token !== '') {
        const seconds = Number(body.expires_in);
        const lifetime = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : ASSUMED_LIFETIME_MS;
        return { accessToken: token, expiresAt: started + lifetime };
      }
      throw tokenFailure({
        credential: credential.id,
        status: answer.status,
        error: typeof body.error === 'string' ? body.error : undefined,
        description: typeof body.error_description === 'string' ? body.error_description : undefined,
        secrets,
      });
    },
    close: () => http.close(),
  };
}
