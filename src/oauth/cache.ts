// The fleet-wide token cache in Redis. One token request per credential (and user, for service accounts)
// at a time across every process: the process that wins a Redis lock (SET NX PX) asks the endpoint and
// stores the token with a TTL no longer than its life; the others use the current token while it is valid
// or wait for the new one. Tokens are renewed ahead of expiry. A failed request is stored with its time
// and provider text (for `status`) and holds back further requests for a while, so neither a revoked
// secret nor a down endpoint is hammered by a whole fleet.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CredentialConfig } from '../config/index.ts';
import { type ErrorCode, isPophookError, PophookError } from '../errors.ts';
import { scriptRunner } from '../ledger/scripts.ts';
import type { RedisClient } from '../queue/connections.ts';
import { type Logger, silentLogger } from '../telemetry/logger.ts';
import { type CredentialKeys, credentialKeys } from './keys.ts';
import { createTokenProvider, tokensPerSubject } from './providers.ts';
import type { AccessToken, GetTokenOptions, TokenProvider } from './types.ts';

/** A token is not handed out with less than this left (see servable): the login must still find it valid. */
const MIN_VALID_MS = 2_000;
/** How often a process waiting for another's token request looks again. */
const WAIT_STEP_MS = 50;
/** After a retryable failure (endpoint down), the pause before the fleet asks again. */
const RETRY_PAUSE_MS = 5_000;

interface StoredToken extends AccessToken {
  readonly issuedAt: number;
}

/** A failed token request as stored in Redis: no secret, the provider's text, until when it holds. */
export interface StoredFailure {
  readonly code: ErrorCode;
  readonly message: string;
  readonly providerText?: string;
  readonly retryable: boolean;
  readonly at: number;
  readonly until: number;
}

export interface CredentialStatus {
  readonly credential: string;
  readonly state: 'ok' | 'credentials' | 'unavailable';
  readonly failures: Readonly<Record<string, StoredFailure>>;
}

export interface TokenRequest extends GetTokenOptions {
  /** A token a server just refused: never hand it out again (one forced refresh, see login.ts). */
  readonly rejected?: string;
}

export interface TokenCacheOptions {
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly credentials: Readonly<Record<string, CredentialConfig>>;
  /** Who asks, for the lock value: host:pid. */
  readonly owner: string;
  readonly logger?: Logger;
}

/**
 * A cached token that may be handed out: not the one a server just refused, enough life left for a login
 * (2 s, or an eighth of a short life), and with forceRefresh issued after the call began (another process
 * may have been faster).
 */
function servable(
  token: StoredToken | undefined,
  now: number,
  request: TokenRequest,
  started: number,
): token is StoredToken {
  return (
    token !== undefined &&
    token.expiresAt - now > Math.min(MIN_VALID_MS, (token.expiresAt - token.issuedAt) / 8) &&
    token.accessToken !== request.rejected &&
    (!request.forceRefresh || token.issuedAt >= started)
  );
}

/** When a token should be renewed: `refreshBefore` ahead of expiry, at most a quarter of its life ahead. */
export function renewAt(token: StoredToken, refreshBeforeMs: number): number {
  return token.expiresAt - Math.min(refreshBeforeMs, (token.expiresAt - token.issuedAt) / 4);
}

export class TokenCache {
  readonly #options: TokenCacheOptions;
  readonly #providers = new Map<string, TokenProvider>();
  readonly #release: (key: string, value: string) => Promise<unknown>;
  readonly #logger: Logger;

  constructor(options: TokenCacheOptions) {
    this.#options = options;
    const run = scriptRunner(options.redis);
    this.#release = (key, value) => run('lockRelease', [key], [value]);
    this.#logger = options.logger ?? silentLogger;
  }

  async token(credentialId: string, subject: string, request: TokenRequest = {}): Promise<AccessToken> {
    const credential = this.#credential(credentialId);
    const keys = credentialKeys(
      this.#options.prefix,
      credentialId,
      tokensPerSubject(credential) ? subject : undefined,
    );
    const started = Date.now();
    const deadline = started + 2 * credential.timeoutMs + WAIT_STEP_MS;
    const fresh = (token: StoredToken | undefined, now: number): token is StoredToken =>
      servable(token, now, request, started) && now < renewAt(token, credential.refreshBeforeMs);
    /** What Redis answers without a request: a fresh token, else `usable` (or a holding failure thrown). */
    const stored = async (): Promise<{ answer?: StoredToken; usable?: StoredToken }> => {
      const now = Date.now();
      const cached = await this.#read(keys);
      if (fresh(cached, now)) return { answer: cached };
      const usable = servable(cached, now, request, started) ? cached : undefined;
      const failure = await this.#failure(keys);
      if (failure && now < failure.until) {
        if (usable) return { answer: usable };
        throw restored(credentialId, failure);
      }
      return usable ? { usable } : {};
    };
    for (;;) {
      request.signal?.throwIfAborted();
      const { answer, usable } = await stored();
      if (answer) return answer;
      // Under the lock the store is read again: the last holder may have stored a token or a failure.
      const fetched = await this.#underLock(credential, keys, async () => {
        const again = await stored();
        return again.answer ?? (await this.#fetch(credential, subject, keys, request.signal));
      });
      if (fetched) return fetched;
      // Someone else is asking: the current token serves meanwhile, or wait for theirs.
      if (usable) return usable;
      if (Date.now() > deadline) {
        throw new PophookError(
          'OAUTH_ENDPOINT_UNAVAILABLE',
          `credential ${credentialId}: another process's token request did not finish in time`,
          { details: { credential: credentialId } },
        );
      }
      await sleep(WAIT_STEP_MS, undefined, request.signal ? { signal: request.signal } : {});
    }
  }

  /**
   * What `status`, /readyz and metrics show for a credential: `credentials` while a permanent failure
   * holds (revoked consent, expired secret: operator action), `unavailable` while the endpoint is down,
   * else `ok`; with the stored failures by user field (`app` for application tokens), each with its code,
   * time and provider text. A success clears its failure, so what is stored is the current state. With a
   * `subject` (a mailbox's user): only the failure of the token that mailbox logs in with.
   */
  async status(credentialId: string, subject?: string): Promise<CredentialStatus> {
    const perSubject = subject !== undefined && tokensPerSubject(this.#credential(credentialId));
    const { errors, errorField } = credentialKeys(
      this.#options.prefix,
      credentialId,
      perSubject ? subject : undefined,
    );
    const stored = await this.#options.redis.hgetall(errors);
    const failures = Object.fromEntries(
      Object.entries(stored)
        .filter(([field]) => subject === undefined || field === errorField)
        .map(([field, json]) => [field, JSON.parse(json) as StoredFailure]),
    );
    const all = Object.values(failures);
    const state = all.some((f) => !f.retryable) ? 'credentials' : all.length > 0 ? 'unavailable' : 'ok';
    return { credential: credentialId, state, failures };
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#providers.values()].map((provider) => provider.close()));
    this.#providers.clear();
  }

  /** Runs `fetch` holding the single-flight lock; undefined when another process holds it. */
  async #underLock(
    credential: CredentialConfig,
    keys: CredentialKeys,
    fetch: () => Promise<StoredToken>,
  ): Promise<StoredToken | undefined> {
    const lockValue = `${randomBytes(12).toString('base64url')} ${this.#options.owner}`;
    const lockTtl = credential.timeoutMs + 5_000;
    if ((await this.#options.redis.set(keys.lock, lockValue, 'PX', lockTtl, 'NX')) !== 'OK') return undefined;
    try {
      return await fetch();
    } finally {
      await this.#release(keys.lock, lockValue).catch(() => {});
    }
  }

  async #fetch(
    credential: CredentialConfig,
    subject: string,
    keys: CredentialKeys,
    signal: AbortSignal | undefined,
  ): Promise<StoredToken> {
    const provider = this.#provider(credential, subject);
    const issuedAt = Date.now();
    let token: AccessToken;
    try {
      token = await provider.getToken({ forceRefresh: true, ...(signal ? { signal } : {}) });
    } catch (error) {
      if (isPophookError(error)) await this.#remember(credential, keys, error);
      throw error;
    }
    const stored: StoredToken = { ...token, issuedAt };
    const ttl = Math.floor(token.expiresAt - Date.now());
    const redis = this.#options.redis;
    if (ttl > 0) await redis.set(keys.token, JSON.stringify(stored), 'PX', ttl);
    await redis.hdel(keys.errors, keys.errorField);
    this.#logger.info(
      { credential: credential.id, expiresInMs: token.expiresAt - issuedAt },
      'oauth token acquired',
    );
    return stored;
  }

  async #remember(credential: CredentialConfig, keys: CredentialKeys, error: PophookError): Promise<void> {
    const at = Date.now();
    const pause = error.retryable
      ? Math.min(RETRY_PAUSE_MS, credential.failureBackoffMs)
      : credential.failureBackoffMs;
    const text = error.details.providerText;
    const failure: StoredFailure = {
      code: error.code,
      message: error.message,
      ...(typeof text === 'string' ? { providerText: text } : {}),
      retryable: error.retryable,
      at,
      until: at + pause,
    };
    this.#logger.warn(
      { credential: credential.id, code: error.code, providerText: text },
      'oauth token request failed',
    );
    await this.#options.redis.hset(keys.errors, keys.errorField, JSON.stringify(failure)).catch(() => {});
  }

  async #read(keys: CredentialKeys): Promise<StoredToken | undefined> {
    const json = await this.#options.redis.get(keys.token);
    return json === null ? undefined : (JSON.parse(json) as StoredToken);
  }

  async #failure(keys: CredentialKeys): Promise<StoredFailure | undefined> {
    const json = await this.#options.redis.hget(keys.errors, keys.errorField);
    return json === null ? undefined : (JSON.parse(json) as StoredFailure);
  }

  #credential(id: string): CredentialConfig {
    const credential = this.#options.credentials[id];
    if (credential === undefined) {
      throw new PophookError('CONFIG_INVALID', `no credential ${id} in the configuration`, {
        details: { credential: id },
      });
    }
    return credential;
  }

  #provider(credential: CredentialConfig, subject: string): TokenProvider {
    const key = tokensPerSubject(credential) ? `${credential.id}\n${subject}` : credential.id;
    let provider = this.#providers.get(key);
    if (provider === undefined) {
      provider = createTokenProvider(credential, subject);
      this.#providers.set(key, provider);
    }
    return provider;
  }
}

/** The stored failure as the error it was, so every waiting mailbox reports the same code and text. */
function restored(credential: string, failure: StoredFailure): PophookError {
  return new PophookError(failure.code, failure.message, {
    details: {
      credential,
      at: failure.at,
      heldUntil: failure.until,
      ...(failure.providerText === undefined ? {} : { providerText: failure.providerText }),
    },
  });
}
