// From the validated document to the Config the rest of pophook uses: file contents merged in, ids
// copied into entries, units moved into names, and everything deep-frozen.

import type { FileContents } from './files.ts';
import { formatPath } from './paths.ts';
import type { ConfigDocument, MailboxDocument, WebhookDocument } from './schema.ts';
import type { Config, MailboxConfig, WebhookConfig } from './types.ts';

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
  };
}

function buildMailbox(id: string, doc: MailboxDocument, files: Files): MailboxConfig {
  const file = (key: string) => files.get(formatPath(['mailboxes', id, key]));
  return defined({
    id,
    host: doc.host,
    // RFC 8314 §3.3: 995 for POP3 over implicit TLS; RFC 1939 §3: 110 otherwise (STLS upgrades it).
    port: doc.port ?? (doc.tls === 'implicit' ? 995 : 110),
    tls: doc.tls,
    caPem: doc.ca === undefined ? undefined : file('ca'),
    servername: doc.servername,
    username: doc.username,
    password: doc.password ?? file('passwordFile'),
    accessToken: doc.accessToken ?? file('accessTokenFile'),
    auth: doc.auth,
    allowPlaintextAuth: doc.allowPlaintextAuth,
    pollIntervalMs: doc.pollInterval,
    delete: doc.delete,
    maxMessageBytes: doc.maxMessageSize,
    batchMessages: doc.batchMessages,
    batchBytes: doc.batchSize,
    webhook: doc.webhook,
    trustedAuthservIds: [...doc.trustedAuthservIds],
    winmailDat: doc.winmailDat,
    connectTimeoutMs: doc.connectTimeout,
    commandTimeoutMs: doc.commandTimeout,
    sessionTimeoutMs: doc.sessionTimeout,
  });
}

export function buildConfig(doc: ConfigDocument, files: Files): Config {
  const { delivery } = doc;
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
  });
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
