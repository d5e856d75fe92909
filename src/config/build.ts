// From the validated document to the Config the rest of pophook uses: file contents merged in, ids
// copied into entries, units moved into names, and everything deep-frozen.

import { defaultPort } from '../pop3/types.ts';
import { CREDENTIAL_DEFAULTS, type CredentialDocument, PROVIDER_DEFAULTS } from './credentials.ts';
import type { FileContents } from './files.ts';
import { formatPath } from './paths.ts';
import { buildRouting, routeTargets } from './routes.ts';
import type { ConfigDocument, MailboxDocument, StorageDocument, WebhookDocument } from './schema.ts';
import type {
  Config,
  CredentialConfig,
  MailboxConfig,
  SecretSource,
  StartAt,
  StorageConfig,
  WebhookConfig,
} from './types.ts';

type Files = FileContents['contents'];

/** Drops undefined optional fields so the output has no `key: undefined` entries. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function buildWebhook(id: string, doc: WebhookDocument, files: Files): WebhookConfig {
  return {
    id,
    url: doc.url,
    secret: doc.secret ?? files.get(formatPath(['webhooks', id, 'secretFile']))!,
    timeoutMs: doc.timeout,
    retryForMs: doc.retryFor,
    retryDelayMs: doc.retryDelay,
    retryMaxDelayMs: doc.retryMaxDelay,
    headers: { ...doc.headers },
    format: doc.format,
    attachments: defined({
      mode: doc.attachments.mode,
      referenceFromBytes: doc.attachments.threshold,
      skip: doc.attachments.skip && {
        types: doc.attachments.skip.types,
        belowBytes: doc.attachments.skip.below,
      },
    }),
  };
}

function buildStorage(doc: StorageDocument, files: Files): StorageConfig {
  const file = (key: string) => files.get(formatPath(['storage', key]));
  const accessKeyId = doc.accessKeyId ?? file('accessKeyIdFile');
  const secretAccessKey = doc.secretAccessKey ?? file('secretAccessKeyFile');
  return defined({
    endpoint: doc.endpoint,
    region: doc.region,
    bucket: doc.bucket,
    prefix: doc.prefix,
    credentials:
      accessKeyId === undefined || secretAccessKey === undefined
        ? undefined
        : { accessKeyId, secretAccessKey },
    forcePathStyle: doc.forcePathStyle,
    urlExpiryMs: doc.urlExpiry,
  });
}

function buildMailbox(id: string, doc: MailboxDocument, files: Files): MailboxConfig {
  const file = (key: string) => files.get(formatPath(['mailboxes', id, key]));
  const profile =
    doc.provider === undefined || doc.provider === 'generic' ? undefined : PROVIDER_DEFAULTS[doc.provider];
  const routing = buildRouting(doc.routeMode, doc.routes, doc.webhook);
  return defined({
    id,
    // checkMailbox made sure that a mailbox without a provider profile names its host.
    host: doc.host ?? profile!.host,
    port: doc.port ?? defaultPort(doc.tls),
    tls: doc.tls,
    caPem: doc.ca === undefined ? undefined : file('ca'),
    servername: doc.servername,
    username: doc.username,
    password: doc.password ?? file('passwordFile'),
    accessToken: doc.accessToken ?? file('accessTokenFile'),
    credential: doc.credential,
    provider: doc.provider,
    auth: doc.auth ?? profile?.auth ?? 'auto',
    allowPlaintextAuth: doc.allowPlaintextAuth,
    pollIntervalMs: doc.pollInterval,
    delete: doc.delete,
    maxMessageBytes: doc.maxMessageSize,
    oversize: doc.oversize,
    startAt: buildStartAt(doc.startAt),
    loginDelay: doc.loginDelay,
    listingCap: profile !== undefined && 'listingCap' in profile ? profile.listingCap : undefined,
    batchMessages: doc.batchMessages,
    batchBytes: doc.batchSize,
    // checkMailbox made sure there is exactly one of webhook and routes.
    webhook: doc.webhook ?? routeTargets(routing)[0] ?? '',
    deadLetterWebhook: doc.deadLetterWebhook ?? doc.webhook ?? routeTargets(routing)[0] ?? '',
    routing,
    trustedAuthservIds: [...doc.trustedAuthservIds],
    winmailDat: doc.winmailDat,
    connectTimeoutMs: doc.connectTimeout,
    commandTimeoutMs: doc.commandTimeout,
    sessionTimeoutMs: doc.sessionTimeout,
  });
}

function buildStartAt(text: string): StartAt {
  if (text === 'everything' || text === 'now') return { mode: text };
  // A date without a time is its first instant in UTC (Date.parse's rule for date-only ISO forms).
  return { mode: 'date', sinceMs: Date.parse(text), text };
}

type Loose = Record<string, unknown>;
/** A file the config named, by the issue path of its field: content and absolute path. */
type FileLookup = (path: string) => { content: string; absolute: string } | undefined;

function source(id: string, doc: Loose, key: string, files: FileLookup): SecretSource | undefined {
  if (typeof doc[key] === 'string') return { value: doc[key] as string };
  const file = files(formatPath(['credentials', id, `${key}File`]));
  return file === undefined ? undefined : { value: file.content, file: file.absolute };
}

function buildCredential(id: string, doc: CredentialDocument, files: FileLookup): CredentialConfig {
  const loose = doc as unknown as Loose;
  const secretOf = (key: string) => source(id, loose, key, files);
  const base = {
    id,
    caPem: doc.ca === undefined ? undefined : files(formatPath(['credentials', id, 'ca']))?.content,
    timeoutMs: doc.timeout,
    refreshBeforeMs: doc.refreshBefore,
    failureBackoffMs: doc.failureBackoff,
  };
  switch (doc.type) {
    case 'microsoft365':
      return defined({
        ...base,
        type: doc.type,
        authority: (doc.authority ?? CREDENTIAL_DEFAULTS.authority).replace(/\/+$/, ''),
        tenant: doc.tenant!,
        clientId: doc.clientId!,
        scope: doc.scope ?? CREDENTIAL_DEFAULTS.microsoft365Scope,
        clientSecret: secretOf('clientSecret'),
        privateKey: secretOf('privateKey'),
        thumbprint: doc.thumbprint,
      });
    case 'google':
      return defined({
        ...base,
        type: doc.type,
        tokenUrl: doc.tokenUrl ?? CREDENTIAL_DEFAULTS.googleTokenUrl,
        clientId: doc.clientId!,
        clientSecret: secretOf('clientSecret')!,
        refreshToken: secretOf('refreshToken')!,
      });
    case 'google-service-account':
      return defined({
        ...base,
        type: doc.type,
        tokenUrl: doc.tokenUrl ?? CREDENTIAL_DEFAULTS.googleTokenUrl,
        scope: doc.scope ?? CREDENTIAL_DEFAULTS.googleScope,
        serviceAccountKey: secretOf('serviceAccountKey')!,
      });
    case 'oauth2':
      return defined({
        ...base,
        type: doc.type,
        tokenUrl: doc.tokenUrl!,
        grant: doc.grant!,
        clientAuth: doc.clientAuth ?? 'basic',
        clientId: doc.clientId!,
        clientSecret: secretOf('clientSecret'),
        refreshToken: secretOf('refreshToken'),
        scope: doc.scope,
      });
  }
}

export function buildConfig(doc: ConfigDocument, read: Pick<FileContents, 'contents' | 'paths'>): Config {
  const { delivery } = doc;
  const files = read.contents;
  const lookup: FileLookup = (path) => {
    const content = read.contents.get(path);
    const absolute = read.paths.get(path);
    return content === undefined || absolute === undefined ? undefined : { content, absolute };
  };
  return defined({
    redis: defined({
      url: doc.redis.url,
      prefix: doc.redis.prefix,
      cluster: doc.redis.cluster,
      caPem: doc.redis.ca === undefined ? undefined : files.get(formatPath(['redis', 'ca'])),
    }),
    log: { level: doc.log.level },
    webhooks: Object.fromEntries(
      Object.entries(doc.webhooks).map(([id, w]) => [id, buildWebhook(id, w, files)]),
    ),
    mailboxes: Object.fromEntries(
      Object.entries(doc.mailboxes).map(([id, m]) => [id, buildMailbox(id, m, files)]),
    ),
    credentials:
      doc.credentials &&
      Object.fromEntries(
        Object.entries(doc.credentials).map(([id, c]) => [id, buildCredential(id, c, lookup)]),
      ),
    storage: doc.storage && buildStorage(doc.storage, files),
    http: doc.http && defined({ port: doc.http.port, host: doc.http.host, token: doc.http.token }),
    delivery: defined({
      concurrency: delivery.concurrency,
      shards: delivery.shards,
      parseThreads: delivery.parseThreads,
      parseTimeoutMs: delivery.parseTimeout,
      maxParts: delivery.maxParts,
      maxDepth: delivery.maxDepth,
      maxHeaderBytes: delivery.maxHeaderSize,
      rawTtlMs: delivery.rawTtl,
    }),
    watchdog: {
      periodMs: doc.watchdog.period,
      stallAfterMs: doc.watchdog.stallAfter,
      staleIntervals: doc.watchdog.staleIntervals,
    },
    dedupe: doc.dedupe && { windowMs: doc.dedupe.window, mode: doc.dedupe.mode },
  });
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
