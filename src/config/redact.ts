// A printable copy of a Config (`pophook check`, startup logs): every credential replaced by '****'.

import type { Config } from './types.ts';

const MASK = '****';

const mask = (value: string | undefined) => (value === undefined ? undefined : MASK);

/** Keeps the user name (it tells which account) and masks the password of a redis:// URL. */
function redactUrl(text: string): string {
  if (!URL.canParse(text)) return MASK;
  const url = new URL(text);
  if (url.password !== '') url.password = MASK;
  return url.toString();
}

function withoutUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

export function redactConfig(config: Config): unknown {
  const webhooks = Object.entries(config.webhooks).map(([id, webhook]) => [
    id,
    {
      ...webhook,
      secret: MASK,
      headers: Object.fromEntries(Object.keys(webhook.headers).map((name) => [name, MASK])),
    },
  ]);
  const mailboxes = Object.entries(config.mailboxes).map(([id, mailbox]) => [
    id,
    withoutUndefined({
      ...mailbox,
      password: mask(mailbox.password),
      accessToken: mask(mailbox.accessToken),
    }),
  ]);
  return withoutUndefined({
    redis: { ...config.redis, url: redactUrl(config.redis.url) },
    log: { ...config.log },
    webhooks: Object.fromEntries(webhooks),
    mailboxes: Object.fromEntries(mailboxes),
    http: config.http && withoutUndefined({ ...config.http, token: mask(config.http.token) }),
    delivery: { ...config.delivery },
    watchdog: { ...config.watchdog },
  });
}
