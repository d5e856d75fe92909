// From a configured credential to its token provider; service accounts get one provider per subject
// (the mailbox user the token acts as).
import type { CredentialConfig } from '../config/index.ts';
import { genericProvider } from './generic.ts';
import { googleRefreshProvider, googleServiceAccountProvider } from './google.ts';
import { createTokenHttp } from './http.ts';
import { microsoftProvider } from './microsoft.ts';
import type { TokenProvider } from './types.ts';

export function createTokenProvider(credential: CredentialConfig, subject: string): TokenProvider {
  const http = createTokenHttp({
    timeoutMs: credential.timeoutMs,
    ...(credential.caPem === undefined ? {} : { caPem: credential.caPem }),
  });
  switch (credential.type) {
    case 'microsoft365':
      return microsoftProvider(credential, http);
    case 'google':
      return googleRefreshProvider(credential, http);
    case 'google-service-account':
      return googleServiceAccountProvider(credential, subject, http);
    case 'oauth2':
      return genericProvider(credential, http);
  }
}

/** Whether tokens of this credential depend on the mailbox user (so are cached per user). */
export function tokensPerSubject(credential: CredentialConfig): boolean {
  return credential.type === 'google-service-account';
}
