// Cross-field rules of the configuration schema. They run even when sibling fields failed (zod `when`),
// so they read the object defensively: a field may be missing or still hold its raw input.

import type { z } from 'zod';
import { isTokenAuth } from '../pop3/types.ts';
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
  const { auth } = mailbox;
  const hasPassword = given(mailbox.password) || given(mailbox.passwordFile);
  const hasToken = given(mailbox.accessToken) || given(mailbox.accessTokenFile);
  if (given(mailbox.password) && given(mailbox.passwordFile)) {
    issue(ctx, ['passwordFile'], 'give password or passwordFile, not both');
  }
  if (given(mailbox.accessToken) && given(mailbox.accessTokenFile)) {
    issue(ctx, ['accessTokenFile'], 'give accessToken or accessTokenFile, not both');
  }
  if (isTokenAuth(auth)) {
    if (!hasToken) issue(ctx, ['accessToken'], `auth: ${auth} needs accessToken or accessTokenFile`);
    if (hasPassword) {
      const key = given(mailbox.password) ? 'password' : 'passwordFile';
      issue(ctx, [key], `not used with auth: ${auth} (it sends accessToken); remove it`);
    }
  } else if (auth === 'auto') {
    if (!hasPassword && !hasToken) {
      issue(
        ctx,
        ['password'],
        'required: password or passwordFile (or accessToken/accessTokenFile for OAuth)',
      );
    }
  } else if (typeof auth === 'string') {
    if (!hasPassword) issue(ctx, ['password'], `auth: ${auth} needs password or passwordFile`);
    if (hasToken) {
      const key = given(mailbox.accessToken) ? 'accessToken' : 'accessTokenFile';
      issue(ctx, [key], 'only used with auth: xoauth2, oauthbearer or auto; remove it');
    }
  }
}

export function checkMailbox(mailbox: Loose, ctx: Ctx): void {
  checkCredentials(mailbox, ctx);
  const hasCredential = ['password', 'passwordFile', 'accessToken', 'accessTokenFile'].some((k) =>
    given(mailbox[k]),
  );
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

function checkWebhookReferences(config: Loose, ctx: Ctx): void {
  if (!isObject(config.webhooks) || !isObject(config.mailboxes)) return;
  const known = Object.keys(config.webhooks);
  for (const [id, mailbox] of Object.entries(config.mailboxes)) {
    if (!isObject(mailbox) || typeof mailbox.webhook !== 'string' || known.includes(mailbox.webhook))
      continue;
    issue(
      ctx,
      ['mailboxes', id, 'webhook'],
      `unknown webhook ${JSON.stringify(mailbox.webhook)} (known: ${known.join(', ') || 'none'})`,
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

export function checkRoot(config: Loose, ctx: Ctx): void {
  if (!isObject(config)) return;
  checkWebhookReferences(config, ctx);
  checkRawTtl(config, ctx);
}
