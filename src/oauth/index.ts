// The public face of src/oauth: OAuth 2.0 access tokens for mailbox logins, from a configured credential,
// cached and shared by the whole fleet in Redis.
export { type CredentialStatus, renewAt, TokenCache } from './cache.ts';
export { tokenFailureCode } from './failure.ts';
export { credentialKeys } from './keys.ts';
export { type MailboxTokens, oauthLoginStep, uncachedTokens, withMailboxToken } from './login.ts';
export { createTokenProvider } from './providers.ts';
