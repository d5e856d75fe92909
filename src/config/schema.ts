// The one strict zod schema of the YAML file: every key, its default and its description. It validates
// the document as written (after interpolation); build.ts renames it into the Config type. Cross-field
// rules run even when other fields of the same object failed, so a file reports all its problems at once.

import * as z from 'zod';
import {
  CREDENTIAL_DEFAULTS,
  credentialSchema,
  MAILBOX_PROVIDERS,
  PROVIDER_DEFAULTS,
} from './credentials.ts';
import {
  boolean,
  documented as doc,
  duration,
  filePath,
  headerName,
  headerValue,
  httpUrl,
  ID_PATTERN,
  ID_RULE,
  id,
  integer,
  line,
  oneOf,
  redisUrl,
  size,
  startAt,
  webhookSecret,
} from './fields.ts';
import { routeModeField, routesField } from './routes.ts';
import { checkMailbox, checkRedis, checkRoot, checkStorage } from './rules.ts';
import { attachments, storageSection } from './storage.ts';
import { AUTH_METHODS, LOG_LEVELS, MAX_DELIVER_SHARDS, OVERSIZE_POLICIES, TLS_MODES } from './types.ts';

// A config is validated once per command: zod's JIT (a validator per object schema, generated as source and
// compiled by `new Function`) costs more to build than it saves on one document, and its generated code is
// in no code cache (docs/performance.md, "start-up under Node's own code cache").
z.config({ jitless: true });

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Cross-field checks run despite failed siblings, as long as there is an object to look at. */
const ALWAYS = {
  when: (payload: { value: unknown }) => payload.value !== null && typeof payload.value === 'object',
};

const redis = z
  .strictObject({
    url: doc(
      redisUrl(),
      'url',
      'Redis URL, redis:// or rediss:// (TLS), may carry user:password@; REDIS_URL wins',
    ).prefault('redis://127.0.0.1:6379'),
    prefix: doc(
      z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'expected 1 to 64 letters, digits, _, . or -' }),
      'string',
      'prefix of every Redis key and queue of this deployment',
    ).prefault('pophook'),
    cluster: doc(
      boolean(),
      'boolean',
      'url is a seed node of a Redis Cluster; the other nodes are discovered (database 0 only)',
    ).prefault(false),
    ca: doc(
      filePath(),
      'path',
      'extra trusted CA certificates (PEM) for rediss://, read at start',
    ).optional(),
  })
  .superRefine(checkRedis, ALWAYS);

const log = z.strictObject({
  level: doc(oneOf(LOG_LEVELS), LOG_LEVELS.join(' | '), 'log level; LOG_LEVEL wins').prefault('info'),
});

const webhook = z
  .strictObject({
    url: doc(httpUrl(), 'url', 'where to POST; http or https, no credentials in it'),
    secret: doc(
      webhookSecret,
      'secret',
      'Standard Webhooks signing secret: whsec_ + base64 of 24..64 bytes',
    ).optional(),
    secretFile: doc(
      filePath(),
      'path',
      'file holding the secret (docker secrets); trailing newline trimmed',
    ).optional(),
    timeout: doc(duration(1, HOUR), 'duration', 'time allowed for one request').prefault('30s'),
    retryFor: doc(duration(0, 365 * DAY), 'duration', 'how long retries go on before dead letter').prefault(
      '24h',
    ),
    retryDelay: doc(
      duration(1, HOUR),
      'duration',
      'ceiling of the first retry delay (full jitter); doubles each attempt',
    ).prefault('5s'),
    retryMaxDelay: doc(duration(1, DAY), 'duration', 'the retry delay never grows past this').prefault('30m'),
    headers: doc(
      z.record(headerName, headerValue),
      'map of string',
      'extra request headers; webhook-*, content-type and framing headers are reserved',
    ).prefault({}),
    format: doc(
      oneOf(['pophook', 'postmark']),
      'pophook | postmark',
      'JSON body: pophook payload v1, or Postmark inbound webhook fields (still Standard Webhooks signed)',
    ).prefault('pophook'),
    attachments: doc(attachments, 'section', 'where attachment bytes go: inline or by reference').prefault(
      {},
    ),
  })
  .superRefine((value, ctx) => {
    const given = [value.secret, value.secretFile].filter((v) => v !== undefined).length;
    if (given !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [given === 0 ? 'secret' : 'secretFile'],
        message: given === 0 ? 'required: secret or secretFile' : 'give secret or secretFile, not both',
      });
    }
  }, ALWAYS);

const storage = storageSection.superRefine(checkStorage, ALWAYS);

const http = z.strictObject({
  port: doc(
    integer(0, 65535),
    'integer',
    'port of /metrics, /healthz, /readyz and the dashboard (0: any free port)',
  ).prefault(9464),
  host: doc(line('a host'), 'string', 'address to listen on').prefault('0.0.0.0'),
  // `token: ${POPHOOK_ADMIN_TOKEN:-}` in a shared file means "no dashboard here", not an error.
  token: doc(
    z.preprocess(
      (value) => (value === '' ? undefined : value),
      z
        .string({ error: 'expected a string' })
        .min(16, { error: 'expected at least 16 characters' })
        .optional(),
    ),
    'secret',
    'bearer token of the dashboard and its API (16+ characters); empty or absent: dashboard off',
  ).optional(),
});

const delivery = z.strictObject({
  concurrency: doc(
    integer(1, 256),
    'integer',
    'deliveries in parallel per worker process; a message of 4 MiB or more counts as two',
  ).prefault(8),
  shards: doc(
    integer(1, MAX_DELIVER_SHARDS),
    'integer',
    'deliver queues; each mailbox keeps to one, so a Redis Cluster spreads them over its masters',
  ).prefault(1),
  parseThreads: doc(
    integer(1, 256),
    'integer',
    'mailparser threads per worker process; each warms its own JIT, so more pay only for hostile mail or many cores',
  ).prefault(1),
  parseTimeout: doc(duration(100, HOUR), 'duration', 'time budget to parse one message').prefault('30s'),
  maxParts: doc(integer(1, 100_000), 'integer', 'most MIME parts a message may have').prefault(1000),
  maxDepth: doc(integer(1, 1000), 'integer', 'deepest MIME nesting a message may have').prefault(20),
  maxHeaderSize: doc(size(1024), 'size', 'largest header block of a message').prefault('1MB'),
  rawTtl: doc(duration(HOUR, 365 * DAY), 'duration', 'how long a raw message stays in Redis').prefault('14d'),
});

// The watchdog of every long-running process (DESIGN.md "Known traps": BullMQ workers that stop consuming
// after a Redis reconnect, job schedulers that stop producing).
const watchdog = z.strictObject({
  period: doc(
    duration(1_000, HOUR),
    'duration',
    'how often the watchdog looks; a check still failing one period after recovery exits the process (code 1)',
  ).prefault('30s'),
  stallAfter: doc(
    duration(1_000, DAY),
    'duration',
    'jobs waiting this long with none taken by a worker of the process: the worker is wedged and restarted',
  ).prefault('5m'),
  staleIntervals: doc(
    integer(1, 1000),
    'integer',
    'poll intervals without a poll before a mailbox is stale (/readyz) and its silent schedule re-synced',
  ).prefault(3),
});

// One delivery per email across mailboxes (src/delivery/dedupe.ts; docs/guarantees.md "Duplicates across
// mailboxes" says why the window starts at the first copy's 2xx).
const dedupe = z.strictObject({
  window: doc(
    duration(1_000, 365 * DAY),
    'duration',
    'a copy of an email (same contentKey, same webhook) arriving within this time after the first copy was accepted (2xx) is a duplicate',
  ).prefault('24h'),
  mode: doc(
    oneOf(['skip', 'mark']),
    'skip | mark',
    'skip: a duplicate is recorded (delivered, duplicateOf in the ledger) and not sent; mark: sent with duplicateOf naming the first copy (pophook format only)',
  ).prefault('skip'),
});

const mailbox = z
  .strictObject({
    provider: doc(
      oneOf(MAILBOX_PROVIDERS),
      MAILBOX_PROVIDERS.join(' | '),
      `fills in host, port, tls and auth: microsoft365 ${PROVIDER_DEFAULTS.microsoft365.host}, gmail ${PROVIDER_DEFAULTS.gmail.host} (995, implicit, xoauth2); generic: none`,
    ).optional(),
    host: doc(
      line('a host name'),
      'string',
      'POP3 server host name or address (required without provider microsoft365/gmail)',
    ).optional(),
    port: doc(integer(1, 65535), 'integer', 'POP3 port; default 995 with tls: implicit, else 110').optional(),
    tls: doc(
      oneOf(TLS_MODES),
      TLS_MODES.join(' | '),
      'implicit TLS (RFC 8314), STLS (RFC 2595) or none',
    ).prefault('implicit'),
    ca: doc(filePath(), 'path', 'extra trusted CA certificates (PEM), read at start').optional(),
    servername: doc(
      line('a server name'),
      'string',
      'TLS server name (SNI and certificate check) if not host',
    ).optional(),
    username: doc(line('a user name'), 'string', 'POP3 user name'),
    password: doc(line('a password'), 'secret', 'POP3 password').optional(),
    passwordFile: doc(filePath(), 'path', 'file holding the password; trailing newline trimmed').optional(),
    accessToken: doc(
      line('an access token'),
      'secret',
      'OAuth 2.0 access token for xoauth2/oauthbearer',
    ).optional(),
    accessTokenFile: doc(
      filePath(),
      'path',
      'file holding the access token; trailing newline trimmed',
    ).optional(),
    credential: doc(
      id(),
      'credential id',
      'the OAuth 2.0 credential whose tokens log in (xoauth2/oauthbearer); replaces accessToken',
    ).optional(),
    auth: doc(
      oneOf(AUTH_METHODS),
      AUTH_METHODS.join(' | '),
      'authentication; default auto (picks the best offered), xoauth2 with provider microsoft365/gmail',
    ).optional(),
    allowPlaintextAuth: doc(boolean(), 'boolean', 'allow credentials over tls: none').prefault(false),
    pollInterval: doc(duration(1000, DAY), 'duration', 'time between poll sessions').prefault('60s'),
    delete: doc(
      boolean(),
      'boolean',
      'DELE delivered messages; false keeps them, never delivering twice',
    ).prefault(true),
    maxMessageSize: doc(
      size(1),
      'size',
      'larger messages are never fetched whole; what happens to them is `oversize`',
    ).prefault('50MB'),
    oversize: doc(
      oneOf(OVERSIZE_POLICIES),
      OVERSIZE_POLICIES.join(' | '),
      'a message over maxMessageSize: a dead letter with its headers, or delivered truncated (`truncated` in the payload) as its headers only (TOP n 0) or without its attachment bodies; it stays on the server until delivered',
    ).prefault('dead-letter'),
    startAt: doc(
      startAt(),
      'everything | now | ISO date',
      'onboarding a mailbox that already holds mail: deliver everything, only mail that arrives from now on, or mail dated on/after the date (first session only)',
    ).prefault('everything'),
    loginDelay: doc(
      oneOf(['honour', 'ignore']),
      'honour | ignore',
      'the LOGIN-DELAY a server announces (Gmail: 300 s): wait that long between logins, or poll on pollInterval and follow-ups anyway ([LOGIN-DELAY] refusals are always honoured)',
    ).prefault('honour'),
    batchMessages: doc(integer(1, 100_000), 'integer', 'most messages RETR’d per poll session').prefault(500),
    batchSize: doc(size(1), 'size', 'most bytes RETR’d per poll session').prefault('200MB'),
    webhook: doc(id(), 'webhook id', 'the webhook this mailbox delivers to (or routes)').optional(),
    routes: routesField,
    routeMode: routeModeField,
    deadLetterWebhook: doc(
      id(),
      'webhook id',
      "where the signed `message.dead` event of each dead letter goes; default the mailbox's webhook (with routes: the first route's first webhook)",
    ).optional(),
    trustedAuthservIds: doc(
      z.array(line('an authserv-id'), { error: 'expected a list of authserv-ids' }),
      'list of string',
      'authserv-ids (your MX host names) whose Authentication-Results the payload reports; others are ignored',
    ).prefault([]),
    winmailDat: doc(
      oneOf(['keep', 'drop']),
      'keep | drop',
      'a winmail.dat (TNEF) whose files were unpacked into attachments: kept beside them or dropped',
    ).prefault('keep'),
    connectTimeout: doc(duration(1, HOUR), 'duration', 'time allowed to connect, TLS and greeting').prefault(
      '15s',
    ),
    commandTimeout: doc(duration(1, HOUR), 'duration', 'time allowed for one command reply').prefault('60s'),
    sessionTimeout: doc(
      duration(1_000, DAY),
      'duration',
      'whole poll session at most (a server trickling bytes cannot hold it forever)',
    ).prefault('30m'),
  })
  .superRefine(checkMailbox, ALWAYS);

/**
 * A map of entries by id. Keys are checked here rather than by a zod key schema, which would skip the
 * entry under a bad key and hide its own problems until the id is fixed.
 */
function byId<T extends z.ZodType>(entry: T, what: string) {
  return z.record(z.string(), entry).superRefine((record, ctx) => {
    const ids = Object.keys(record);
    if (ids.length === 0) ctx.addIssue({ code: 'custom', message: `expected at least one ${what}` });
    for (const key of ids.filter((key) => !ID_PATTERN.test(key))) {
      ctx.addIssue({ code: 'custom', path: [key], message: ID_RULE });
    }
  }, ALWAYS);
}

export const configSchema = z
  .strictObject({
    redis: doc(redis, 'section', 'Redis connection').prefault({}),
    log: doc(log, 'section', 'logging').prefault({}),
    webhooks: doc(
      byId(doc(webhook, 'section', 'one webhook'), 'webhook'),
      'map of webhook',
      'webhooks by id (1-64 letters, digits, _ or -)',
    ),
    storage: doc(
      storage,
      'section',
      'S3-compatible object storage for attachments by reference; needed when a webhook uses it',
    ).optional(),
    http: doc(http, 'section', 'metrics, health and dashboard server; off when absent').optional(),
    delivery: doc(delivery, 'section', 'parsing and delivery limits').prefault({}),
    watchdog: doc(watchdog, 'section', 'wedged workers and silent schedules').prefault({}),
    dedupe: doc(
      dedupe,
      'section',
      'one delivery per email across mailboxes, by the payload contentKey; off when absent',
    ).optional(),
    mailboxes: doc(
      byId(doc(mailbox, 'section', 'one mailbox'), 'mailbox'),
      'map of mailbox',
      'mailboxes by id (1-64 letters, digits, _ or -)',
    ),
    credentials: doc(
      byId(doc(credentialSchema, 'section', 'one OAuth 2.0 credential'), 'credential'),
      'map of credential',
      `OAuth 2.0 credentials by id that mailboxes name (scopes default to ${CREDENTIAL_DEFAULTS.microsoft365Scope} / ${CREDENTIAL_DEFAULTS.googleScope})`,
    ).optional(),
  })
  .superRefine(checkRoot, ALWAYS);

export type ConfigDocument = z.output<typeof configSchema>;
export type MailboxDocument = z.output<typeof mailbox>;
export type WebhookDocument = z.output<typeof webhook>;
export type StorageDocument = z.output<typeof storage>;
