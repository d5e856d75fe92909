// Microsoft 365 app-only tokens, the one home of @azure/msal-node: client credentials with a secret or a
// certificate (MSAL signs the client assertion), for the configured authority. MSAL's network goes through
// our agent (extra CA, time budget); its instance discovery is replaced by metadata built from the
// authority, so a national cloud or a private test endpoint needs no call to login.microsoftonline.com.
import {
  AuthError,
  ConfidentialClientApplication,
  type INetworkModule,
  LogLevel,
  type NetworkResponse,
} from '@azure/msal-node';
import type { Microsoft365Credential } from '../config/index.ts';
import { isPophookError } from '../errors.ts';
import { tokenFailure } from './failure.ts';
import type { TokenHttp } from './http.ts';
import { readSecret } from './secrets.ts';
import type { AccessToken, GetTokenOptions, TokenProvider } from './types.ts';

/** What the token endpoint said, as seen by our network client (MSAL's own errors drop the status). */
interface Seen {
  status?: number;
  transport?: unknown;
}

function recordingNetwork(http: TokenHttp, seen: Seen, signal: AbortSignal | undefined): INetworkModule {
  const send = async <T>(
    method: 'GET' | 'POST',
    url: string,
    body?: string,
    headers?: Record<string, string>,
  ) => {
    try {
      const answer = await http.send(url, {
        method,
        signal,
        ...(body === undefined ? {} : { body }),
        ...(headers ? { headers } : {}),
      });
      seen.status = answer.status;
      let parsed: unknown = {};
      try {
        parsed = JSON.parse(answer.body);
      } catch {
        // A proxy's HTML error page: MSAL then sees an answer without a token, the status tells the rest.
      }
      return {
        status: answer.status,
        headers: answer.headers,
        body: parsed as T,
      } satisfies NetworkResponse<T>;
    } catch (error) {
      seen.transport = error;
      throw error;
    }
  };
  return {
    sendGetRequestAsync: (url, options) => send('GET', url, undefined, options?.headers),
    sendPostRequestAsync: (url, options) => send('POST', url, options?.body, options?.headers),
  };
}

/** The OpenID metadata MSAL would discover, built from the authority (same paths in every cloud). */
function authorityOptions(credential: Microsoft365Credential) {
  const base = `${credential.authority}/${credential.tenant}`;
  const host = new URL(credential.authority).host;
  return {
    authority: base,
    knownAuthorities: [host],
    authorityMetadata: JSON.stringify({
      token_endpoint: `${base}/oauth2/v2.0/token`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      issuer: `${base}/v2.0`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
    }),
    cloudDiscoveryMetadata: JSON.stringify({
      tenant_discovery_endpoint: `${base}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    }),
  };
}

async function clientProof(credential: Microsoft365Credential) {
  if (credential.privateKey !== undefined) {
    const privateKey = await readSecret(credential.privateKey, 'document');
    const thumbprint = credential.thumbprint!.toUpperCase();
    // A 64-hex thumbprint is SHA-256 (MSAL then signs PS256 with x5t#S256), 40-hex is SHA-1 (RS256, x5t).
    const print = thumbprint.length === 64 ? { thumbprintSha256: thumbprint } : { thumbprint };
    return { secrets: [privateKey], auth: { clientCertificate: { privateKey, ...print } } };
  }
  const clientSecret = await readSecret(credential.clientSecret!, 'line');
  return { secrets: [clientSecret], auth: { clientSecret } };
}

export function microsoftProvider(credential: Microsoft365Credential, http: TokenHttp): TokenProvider {
  return {
    async getToken(options: GetTokenOptions = {}): Promise<AccessToken> {
      const proof = await clientProof(credential);
      const seen: Seen = {};
      // A fresh application per request: MSAL's in-memory cache and throttle state stay out of the way
      // (the fleet cache in Redis decides when a token is needed).
      const app = new ConfidentialClientApplication({
        auth: { clientId: credential.clientId, ...authorityOptions(credential), ...proof.auth },
        system: {
          networkClient: recordingNetwork(http, seen, options.signal),
          disableInternalRetries: true,
          loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => {} },
        },
      });
      try {
        const result = await app.acquireTokenByClientCredential({
          scopes: [credential.scope],
          skipCache: true,
        });
        if (!result?.accessToken || !result.expiresOn) {
          throw tokenFailure({
            credential: credential.id,
            status: seen.status,
            description: 'answer without access_token',
          });
        }
        return { accessToken: result.accessToken, expiresAt: result.expiresOn.getTime() };
      } catch (error) {
        if (isPophookError(error)) throw error;
        const auth = error instanceof AuthError ? error : undefined;
        throw tokenFailure({
          credential: credential.id,
          status: seen.status,
          error: seen.transport === undefined ? auth?.errorCode || undefined : undefined,
          description: auth?.errorMessage ?? (error as Error).message,
          transport: seen.transport !== undefined,
          cause: seen.transport ?? error,
          secrets: proof.secrets,
        });
      }
    },
    close: () => http.close(),
  };
}
