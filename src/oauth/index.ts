// The public face of src/oauth: OAuth 2.0 access tokens for mailbox logins, from a configured credential,
// cached and shared by the whole fleet in Redis.
export { tokenFailureCode } from './failure.ts';
export { createTokenProvider } from './providers.ts';
export type { AccessToken, GetTokenOptions, TokenProvider, TokenSource } from './types.ts';
