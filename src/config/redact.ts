// A printable copy of a Config (`pophook check`, startup logs): every credential replaced by '****'.

import type { Config, CredentialConfig } from './types.ts';

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

const SECRET_KEYS = ['clientSecret', 'refreshToken', 'privateKey', 'serviceAccountKey'] as const;

/** Every secret of a credential masked, and the file a secret comes from kept (it tells where to look). */
function redactCredential(credential: CredentialConfig): unknown {
  const copy: Record<string, unknown> = { ...credential };
  for (const key of SECRET_KEYS) {
    const secret = copy[key] as { file?: string } | undefined;
    if (secret !== undefined) copy[key] = withoutUndefined({ value: MASK, file: secret.file });
  }
  return copy;
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
    credentials:
      config.credentials &&
      Object.fromEntries(
        Object.entries(config.credentials).map(([id, credential]) => [id, redactCredential(credential)]),
      ),
    http: config.http && withoutUndefined({ ...config.http, token: mask(config.http.token) }),
    delivery: { ...config.delivery },
    watchdog: { ...config.watchdog },
  });
}
