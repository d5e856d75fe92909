// Cross-field rules of the configuration schema. They run even when sibling fields failed (zod `when`),
// so they read the object defensively: a field may be missing or still hold its raw input.

import type * as z from 'zod';
import { isTokenAuth } from '../pop3/types.ts';
import { PROVIDER_DEFAULTS } from './credentials.ts';
import { formatDuration } from './units.ts';

type Ctx = z.RefinementCtx;
type Loose = Record<string, unknown>;

const isObject = (value: unknown): value is Loose => value !== null && typeof value === 'object';
const given = (value: unknown) => value !== undefined;

function issue(ctx: Ctx, path: PropertyKey[], message: string): void {
  ctx.addIssue({ code: 'custom', path, message });
}

/** Exactly one password source for password mechanisms, one token source for OAuth ones (RFC 7628). */
function checkCredentials(mailbox: Loose, ctx: Ctx): void {
  // The same default as build.ts: the provider profile's method, else auto.
  const profile = PROVIDER_DEFAULTS[mailbox.provider as keyof typeof PROVIDER_DEFAULTS];
  const auth = mailbox.auth ?? profile?.auth ?? 'auto';
  const hasPassword = given(mailbox.password) || given(mailbox.passwordFile);
  const hasToken = given(mailbox.accessToken) || given(mailbox.accessTokenFile) || given(mailbox.credential);
  if (given(mailbox.credential) && (given(mailbox.accessToken) || given(mailbox.accessTokenFile))) {
    issue(ctx, ['credential'], 'give credential or a static accessToken/accessTokenFile, not both');
  }
  if (given(mailbox.password) && given(mailbox.passwordFile)) {
    issue(ctx, ['passwordFile'], 'give password or passwordFile, not both');
  }
  if (given(mailbox.accessToken) && given(mailbox.accessTokenFile)) {
    issue(ctx, ['accessTokenFile'], 'give accessToken or accessTokenFile, not both');
  }
  if (isTokenAuth(auth)) {
    if (!hasToken)
      issue(ctx, ['accessToken'], `auth: ${auth} needs credential, accessToken or accessTokenFile`);
    if (hasPassword) {
      const key = given(mailbox.password) ? 'password' : 'passwordFile';
      issue(ctx, [key], `not used with auth: ${auth} (it sends an access token); remove it`);
    }
  } else if (auth === 'auto') {
    if (!hasPassword && !hasToken) {
      issue(
        ctx,
        ['password'],
        'required: password or passwordFile (or credential or accessToken/accessTokenFile for OAuth)',
      );
    }
  } else if (typeof auth === 'string') {
    if (!hasPassword) issue(ctx, ['password'], `auth: ${auth} needs password or passwordFile`);
    if (hasToken) {
      const key = ['credential', 'accessToken', 'accessTokenFile'].find((k) => given(mailbox[k]))!;
      issue(ctx, [key], 'only used with auth: xoauth2, oauthbearer or auto; remove it');
    }
  }
}

export function checkMailbox(mailbox: Loose, ctx: Ctx): void {
  checkCredentials(mailbox, ctx);
  if (given(mailbox.webhook) === given(mailbox.routes)) {
    issue(ctx, ['webhook'], 'give webhook (one webhook for every message) or routes, exactly one of them');
  }
  if (!given(mailbox.host) && (mailbox.provider === undefined || mailbox.provider === 'generic')) {
    issue(ctx, ['host'], 'required (or provider: microsoft365 or gmail, which know their host)');
  }
  const hasCredential = ['password', 'passwordFile', 'accessToken', 'accessTokenFile', 'credential'].some(
    (k) => given(mailbox[k]),
  );
  // Gmail lists only the oldest ~250 unpopped messages and pops only what is retrieved: messages a start
  // point skips would fill the listing for good and hide every newer one.
  if (mailbox.provider === 'gmail' && given(mailbox.startAt) && mailbox.startAt !== 'everything') {
    issue(
      ctx,
      ['startAt'],
      'Gmail would keep listing the skipped messages and never show newer ones: use startAt: everything and ' +
        'choose "Enable POP for mail that arrives from now on" in Gmail\'s Forwarding and POP/IMAP settings',
    );
  }
  // DESIGN "Security defaults": credentials cross an unencrypted link only when the file says so.
  if (mailbox.tls === 'none' && hasCredential && mailbox.allowPlaintextAuth !== true) {
    issue(
      ctx,
      ['tls'],
      'tls: none would send the credentials unencrypted: use tls: implicit (port 995) or starttls, ' +
        'or set allowPlaintextAuth: true if the link is trusted (e.g. localhost)',
    );
  }
}

/** A Redis Cluster has only database 0 (cluster spec, "Overview"): a `/db` in the seed URL is a mistake. */
export function checkRedis(redis: Loose, ctx: Ctx): void {
  if (redis.cluster !== true || typeof redis.url !== 'string' || !URL.canParse(redis.url)) return;
  const db = new URL(redis.url).pathname.replace(/^\//, '');
  if (db !== '' && db !== '0') issue(ctx, ['url'], `a Redis Cluster has only database 0, not ${db}`);
}

/** Each mailbox's `webhook`, `deadLetterWebhook` and `credential` names an entry of that section. */
function checkReferences(
  config: Loose,
  ctx: Ctx,
  key: 'webhook' | 'deadLetterWebhook' | 'credential',
  section: string,
): void {
  if (!isObject(config.mailboxes)) return;
  const known = isObject(config[section]) ? Object.keys(config[section]) : [];
  for (const [id, mailbox] of Object.entries(config.mailboxes)) {
    if (!isObject(mailbox) || typeof mailbox[key] !== 'string' || known.includes(mailbox[key] as string))
      continue;
    issue(
      ctx,
      ['mailboxes', id, key],
      `unknown ${key} ${JSON.stringify(mailbox[key])} (known: ${known.join(', ') || 'none'})`,
    );
  }
}

/** A raw message must outlive its retries, or a late retry finds nothing to deliver (RAW_MISSING). */
function checkRawTtl(config: Loose, ctx: Ctx): void {
  const rawTtl = isObject(config.delivery) ? config.delivery.rawTtl : undefined;
  if (typeof rawTtl !== 'number' || !isObject(config.webhooks)) return;
  for (const [id, webhook] of Object.entries(config.webhooks)) {
    const retryFor = isObject(webhook) ? webhook.retryFor : undefined;
    if (typeof retryFor === 'number' && retryFor > rawTtl) {
      issue(
        ctx,
        ['delivery', 'rawTtl'],
        `must be at least the longest retryFor (${formatDuration(retryFor)} of webhook ${id})`,
      );
      return;
    }
  }
}

/** `duplicateOf` is a member of pophook's payload; Postmark's fixed shape has no place for it. */
function checkDedupeMode(config: Loose, ctx: Ctx): void {
  if (!isObject(config.dedupe) || config.dedupe.mode !== 'mark' || !isObject(config.webhooks)) return;
  const postmark = Object.entries(config.webhooks)
    .filter(([, webhook]) => isObject(webhook) && webhook.format === 'postmark')
    .map(([id]) => id);
  if (postmark.length === 0) return;
  issue(
    ctx,
    ['dedupe', 'mode'],
    `mark adds duplicateOf to the pophook payload, which webhook ${postmark.join(', ')} (format: postmark) ` +
      'does not send: use mode: skip, or format: pophook',
  );
}

/** Static keys come in pairs (id and secret, each inline or from a file); neither means the SDK's chain. */
export function checkStorage(storage: Loose, ctx: Ctx): void {
  const id = ['accessKeyId', 'accessKeyIdFile'].filter((k) => given(storage[k]));
  const secret = ['secretAccessKey', 'secretAccessKeyFile'].filter((k) => given(storage[k]));
  if (id.length > 1) issue(ctx, ['accessKeyIdFile'], 'give accessKeyId or accessKeyIdFile, not both');
  if (secret.length > 1) {
    issue(ctx, ['secretAccessKeyFile'], 'give secretAccessKey or secretAccessKeyFile, not both');
  }
  if (id.length > 0 && secret.length === 0) {
    issue(ctx, ['secretAccessKey'], `${id[0]} needs secretAccessKey or secretAccessKeyFile`);
  }
  if (secret.length > 0 && id.length === 0) {
    issue(ctx, ['accessKeyId'], `${secret[0]} needs accessKeyId or accessKeyIdFile`);
  }
}

/** Reference mode needs the storage section; any attachment policy needs the pophook payload shape. */
function checkAttachments(config: Loose, ctx: Ctx): void {
  if (!isObject(config.webhooks)) return;
  for (const [id, webhook] of Object.entries(config.webhooks)) {
    if (!isObject(webhook) || !isObject(webhook.attachments)) continue;
    const path = ['webhooks', id, 'attachments'];
    const byReference = webhook.attachments.mode === 'reference';
    if (byReference && !isObject(config.storage)) {
      issue(ctx, [...path, 'mode'], 'reference needs the top-level storage section (bucket, credentials)');
    }
    if ((byReference || given(webhook.attachments.skip)) && webhook.format === 'postmark') {
      issue(ctx, path, 'reference and skip need format: pophook (Postmark attachments carry their content)');
    }
  }
}

/** Each route's `deliver` names webhooks of the webhooks section. */
function checkRouteTargets(config: Loose, ctx: Ctx): void {
  if (!isObject(config.mailboxes) || !isObject(config.webhooks)) return;
  const known = Object.keys(config.webhooks);
  for (const [id, mailbox] of Object.entries(config.mailboxes)) {
    if (!isObject(mailbox) || !Array.isArray(mailbox.routes)) continue;
    for (const [i, route] of mailbox.routes.entries()) {
      if (!isObject(route) || !Array.isArray(route.deliver)) continue;
      for (const [j, target] of route.deliver.entries()) {
        if (typeof target !== 'string' || known.includes(target)) continue;
        const path = ['mailboxes', id, 'routes', i, 'deliver', j];
        issue(ctx, path, `unknown webhook ${JSON.stringify(target)} (known: ${known.join(', ') || 'none'})`);
      }
    }
  }
}

export function checkRoot(config: Loose, ctx: Ctx): void {
  if (!isObject(config)) return;
  checkAttachments(config, ctx);
  if (isObject(config.webhooks)) {
    checkReferences(config, ctx, 'webhook', 'webhooks');
    checkReferences(config, ctx, 'deadLetterWebhook', 'webhooks');
  }
  checkRouteTargets(config, ctx);
  checkReferences(config, ctx, 'credential', 'credentials');
  checkRawTtl(config, ctx);
  checkDedupeMode(config, ctx);
}
