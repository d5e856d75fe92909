// From a configured credential to its token provider; service accounts get one provider per subject
// (the mailbox user the token acts as). The provider libraries (msal-node, google-auth-library) take
// a few hundred milliseconds to load, so each is imported the first time a credential of its kind asks
// for a token: a deployment or a CLI command without one never pays for them.
import type { CredentialConfig } from '../config/index.ts';
import { createTokenHttp, type TokenHttp } from './http.ts';
import type { TokenProvider } from './types.ts';

async function load(credential: CredentialConfig, subject: string, http: TokenHttp): Promise<TokenProvider> {
  switch (credential.type) {
    case 'microsoft365':
      return (await import('./microsoft.ts')).microsoftProvider(credential, http);
    case 'google':
      return (await import('./google.ts')).googleRefreshProvider(credential, http);
    case 'google-service-account':
      return (await import('./google.ts')).googleServiceAccountProvider(credential, subject, http);
    case 'oauth2':
      return (await import('./generic.ts')).genericProvider(credential, http);
  }
}

export function createTokenProvider(credential: CredentialConfig, subject: string): TokenProvider {
  const http = createTokenHttp({
    timeoutMs: credential.timeoutMs,
    ...(credential.caPem === undefined ? {} : { caPem: credential.caPem }),
  });
  let provider: Promise<TokenProvider> | undefined;
  return {
    async getToken(options) {
      provider ??= load(credential, subject, http);
      return (await provider).getToken(options);
    },
    close: () => http.close(),
  };
}

/** Whether tokens of this credential depend on the mailbox user (so are cached per user). */
export function tokensPerSubject(credential: CredentialConfig): boolean {
  return credential.type === 'google-service-account';
}
