// The validated configuration as the rest of pophook sees it: deep-frozen, ids copied into each entry,
// every duration in milliseconds and every size in bytes, with the unit in the field name.

import type { AuthMethod, TlsMode } from '../pop3/types.ts';
import type { CLIENT_AUTH_METHODS, MailboxProvider, OAUTH2_GRANTS } from './credentials.ts';
import type { Routing } from './routes.ts';

// The POP3 client owns the lists of TLS modes and authentication methods; the config accepts exactly those.
export { AUTH_METHODS, type AuthMethod, TLS_MODES, type TlsMode } from '../pop3/types.ts';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What a message over maxMessageSize becomes (src/mailbox/oversize.ts). */
export const OVERSIZE_POLICIES = ['dead-letter', 'headers-only', 'strip-attachments'] as const;
export type OversizePolicy = (typeof OVERSIZE_POLICIES)[number];

export interface RedisConfig {
  /** redis:// or rediss:// URL, possibly with user:password@ (REDIS_URL wins over the file). */
  readonly url: string;
  /** Prefix of every Redis key and BullMQ queue of this deployment. */
  readonly prefix: string;
  /** `url` is a seed node of a Redis Cluster (ioredis `Cluster`), not a single Redis. */
  readonly cluster: boolean;
  /** Extra trusted CA certificates (PEM) for rediss://, read from the `ca` path at load. */
  readonly caPem?: string;
}

export interface LogConfig {
  readonly level: LogLevel;
}

export interface WebhookConfig {
  readonly id: string;
  readonly url: string;
  /** `whsec_<base64>` Standard Webhooks signing secret (from `secret` or `secretFile`). */
  readonly secret: string;
  readonly timeoutMs: number;
  /** How long retries may go on before the message is dead-lettered. */
  readonly retryForMs: number;
  /** Ceiling of the first retry delay; it doubles with every attempt (full jitter). */
  readonly retryDelayMs: number;
  /** The retry delay's ceiling never grows past this (a Retry-After may still ask for more). */
  readonly retryMaxDelayMs: number;
  /** Extra request headers; never one of the Standard Webhooks headers or content-type. */
  readonly headers: Readonly<Record<string, string>>;
  /** The JSON body's shape: pophook's payload v1 or Postmark's inbound webhook JSON. */
  readonly format: 'pophook' | 'postmark';
  /** Where each attachment's bytes go: inline base64 (the default) or an object in `storage`. */
  readonly attachments: AttachmentsConfig;
}

/** A webhook's attachment policy; the parse threads apply it (src/payload/attachment-policy.ts). */
export interface AttachmentsConfig {
  readonly mode: 'inline' | 'reference';
  /** reference mode: attachments of at least this many bytes go to storage, smaller ones stay inline. */
  readonly referenceFromBytes: number;
  /** Attachments left out of the payload's content (listed, marked `skipped`), e.g. signature logos. */
  readonly skip?: {
    /** Content types, `type/subtype` or `type/*`, lower case. */
    readonly types: readonly string[];
    /** Only those smaller than this. */
    readonly belowBytes: number;
  };
}

/** The S3-compatible store of referenced attachments (src/storage/). */
export interface StorageConfig {
  /** Absent: AWS S3 of `region`. */
  readonly endpoint?: string;
  readonly region: string;
  readonly bucket: string;
  /** Prepended to every object key: `<prefix><mailbox>/<message sha256>/<attachment sha256>`. */
  readonly prefix: string;
  /** Absent: the AWS SDK's default credential chain (environment, profile, instance role…). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly forcePathStyle: boolean;
  /** Lifetime of each pre-signed GET URL (SigV4: 7 days at most). */
  readonly urlExpiryMs: number;
}

export interface HttpConfig {
  readonly port: number;
  readonly host: string;
  /** Bearer token for the dashboard and its API; without it they are off. */
  readonly token?: string;
}

/** Upper bound of `delivery.shards` (src/queue/layout.ts checks the same bound). */
export const MAX_DELIVER_SHARDS = 64;

export interface DeliveryConfig {
  readonly concurrency: number;
  /** Deliver queues (1: the single `deliver` queue); a mailbox always uses the same one. */
  readonly shards: number;
  /** Parser threads per process. */
  readonly parseThreads: number;
  readonly parseTimeoutMs: number;
  readonly maxParts: number;
  readonly maxDepth: number;
  readonly maxHeaderBytes: number;
  /** How long a raw message stays in Redis; at least every webhook's retryForMs. */
  readonly rawTtlMs: number;
}

export interface WatchdogConfig {
  /** How often the watchdog inspects; still wedged one period after a recovery: the process exits 1. */
  readonly periodMs: number;
  /** Jobs waiting this long with none taken by a worker of the process is a wedge. */
  readonly stallAfterMs: number;
  /** Poll intervals without a poll before a mailbox is stale (/readyz) and its schedule silent. */
  readonly staleIntervals: number;
}

/** Deduplication across mailboxes by contentKey (src/delivery/dedupe.ts); absent from Config when off. */
export interface DedupeConfig {
  /** A copy within this long after the first copy's 2xx is a duplicate. */
  readonly windowMs: number;
  /** skip: recorded, not sent; mark: sent with `duplicateOf`. */
  readonly mode: 'skip' | 'mark';
}

/** `everything` (every listed message), `now` (only mail that arrives later) or mail dated on/after `sinceMs`. */
export type StartAt =
  | { readonly mode: 'everything' }
  | { readonly mode: 'now' }
  | { readonly mode: 'date'; readonly sinceMs: number; readonly text: string };

export interface MailboxConfig {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly tls: TlsMode;
  /** Extra trusted CA certificates (PEM), read from the `ca` path at load. */
  readonly caPem?: string;
  readonly servername?: string;
  readonly username: string;
  readonly password?: string;
  readonly accessToken?: string;
  /** Id of the OAuth 2.0 credential whose tokens log in (always a key of Config.credentials). */
  readonly credential?: string;
  /** The provider profile that filled in host, port, tls and auth defaults. */
  readonly provider?: MailboxProvider;
  readonly auth: AuthMethod;
  readonly allowPlaintextAuth: boolean;
  readonly pollIntervalMs: number;
  readonly delete: boolean;
  readonly maxMessageBytes: number;
  /** What a message over maxMessageBytes becomes: a dead letter, or delivered truncated. */
  readonly oversize: OversizePolicy;
  /** Where delivery starts on a mailbox that already holds mail (src/mailbox/onboarding.ts). */
  readonly startAt: StartAt;
  /** Whether the LOGIN-DELAY a server announces spaces the logins (RFC 2449 §6.8). */
  readonly loginDelay: 'honour' | 'ignore';
  /** The provider lists at most about this many messages per session (Gmail: 250). */
  readonly listingCap?: number;
  /** At most this many RETRs per poll session. */
  readonly batchMessages: number;
  /** At most this many bytes RETR'd per poll session. */
  readonly batchBytes: number;
  /**
   * The webhook this mailbox delivers to (always a key of Config.webhooks); with routes, the first webhook
   * they name ('' when every route drops): the webhook of its batch jobs before routing chose.
   */
  readonly webhook: string;
  /** Id of the webhook that gets the `message.dead` events (the mailbox's webhook unless configured). */
  readonly deadLetterWebhook: string;
  /** The routes (the `webhook:` shorthand is one default route delivering to it). */
  readonly routing: Routing;
  /** authserv-ids whose Authentication-Results fields the payload reports (RFC 8601 §5). */
  readonly trustedAuthservIds: readonly string[];
  /** A winmail.dat whose files the payload lists: kept in `attachments` too, or dropped. */
  readonly winmailDat: 'keep' | 'drop';
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  /** Bound on a whole poll session. */
  readonly sessionTimeoutMs: number;
}

/** A secret as loaded, plus the file it came from: providers read the file again at each token request. */
export interface SecretSource {
  readonly value: string;
  readonly file?: string;
}

interface CredentialBase {
  readonly id: string;
  /** Extra trusted CA certificates (PEM) for the token endpoint. */
  readonly caPem?: string;
  readonly timeoutMs: number;
  /** A token is renewed when less than this is left of its life (capped at a quarter of its life). */
  readonly refreshBeforeMs: number;
  /** After invalid_client/invalid_grant, no new token request for this long. */
  readonly failureBackoffMs: number;
}

export interface Microsoft365Credential extends CredentialBase {
  readonly type: 'microsoft365';
  readonly authority: string;
  readonly tenant: string;
  readonly clientId: string;
  readonly scope: string;
  readonly clientSecret?: SecretSource;
  /** Certificate credential: the private key (PEM) and the certificate's SHA-1 or SHA-256 thumbprint. */
  readonly privateKey?: SecretSource;
  readonly thumbprint?: string;
}

export interface GoogleCredential extends CredentialBase {
  readonly type: 'google';
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: SecretSource;
  readonly refreshToken: SecretSource;
}

export interface GoogleServiceAccountCredential extends CredentialBase {
  readonly type: 'google-service-account';
  readonly tokenUrl: string;
  readonly scope: string;
  /** The service account's JSON key (client_email, private_key, private_key_id). */
  readonly serviceAccountKey: SecretSource;
}

export interface OAuth2Credential extends CredentialBase {
  readonly type: 'oauth2';
  readonly tokenUrl: string;
  readonly grant: (typeof OAUTH2_GRANTS)[number];
  readonly clientAuth: (typeof CLIENT_AUTH_METHODS)[number];
  readonly clientId: string;
  readonly clientSecret?: SecretSource;
  readonly refreshToken?: SecretSource;
  readonly scope?: string;
}

export type CredentialConfig =
  | Microsoft365Credential
  | GoogleCredential
  | GoogleServiceAccountCredential
  | OAuth2Credential;

export interface Config {
  readonly redis: RedisConfig;
  readonly log: LogConfig;
  readonly webhooks: Readonly<Record<string, WebhookConfig>>;
  readonly mailboxes: Readonly<Record<string, MailboxConfig>>;
  /** OAuth 2.0 credentials by id, when the file has any. */
  readonly credentials?: Readonly<Record<string, CredentialConfig>>;
  /** Object storage for attachments by reference, when the file has a `storage` section. */
  readonly storage?: StorageConfig;
  readonly http?: HttpConfig;
  readonly delivery: DeliveryConfig;
  readonly watchdog: WatchdogConfig;
  readonly dedupe?: DedupeConfig;
}

/** One problem found in a configuration file: `path: message`. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}
