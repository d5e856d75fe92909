// The one interface every token source offers: the fleet cache (cache.ts) and each provider behind it.

export interface AccessToken {
  readonly accessToken: string;
  /** Epoch ms after which the token is no longer valid. */
  readonly expiresAt: number;
}

export interface GetTokenOptions {
  /** Never hand out a cached token: ask the token endpoint (providers always do; the cache honours it). */
  readonly forceRefresh?: boolean;
  readonly signal?: AbortSignal;
}

export interface TokenSource {
  getToken(options?: GetTokenOptions): Promise<AccessToken>;
}

/** A token source that owns connections (an HTTP agent): close() releases them and is idempotent. */
export interface TokenProvider extends TokenSource {
  close(): Promise<void>;
}
