// Cross-field rules: credentials per auth mechanism, clear-text credentials, webhook references,
// at least one mailbox and webhook, raw messages outliving their retries.

import { describe, expect, it } from 'vitest';
import { configText, issuePaths, parse, SECRET } from './helpers.ts';

type Mailbox = Record<string, unknown>;

function withMailbox(edit: (mailbox: Mailbox) => void): string {
  return configText((doc) => edit(doc.mailboxes.support));
}

describe('credentials', () => {
  it('refuses password and passwordFile together', async () => {
    const text = withMailbox((m) => {
      m.passwordFile = 'pw.txt';
    });
    expect(await issuePaths(parse(text))).toContain('mailboxes.support.passwordFile');
  });

  it('requires a password or passwordFile for password mechanisms', async () => {
    for (const auth of ['user', 'apop', 'plain', 'login', 'cram-md5', 'scram-sha-1', 'scram-sha-256']) {
      const text = withMailbox((m) => {
        delete m.password;
        m.auth = auth;
      });
      expect(await issuePaths(parse(text))).toEqual(['mailboxes.support.password']);
    }
  });

  it('refuses an access token with a password mechanism', async () => {
    const text = withMailbox((m) => {
      m.auth = 'plain';
      m.accessToken = 'ya29.token';
    });
    expect(await issuePaths(parse(text))).toEqual(['mailboxes.support.accessToken']);
  });

  it('requires exactly one of accessToken/accessTokenFile for xoauth2 and oauthbearer', async () => {
    for (const auth of ['xoauth2', 'oauthbearer']) {
      const none = withMailbox((m) => {
        delete m.password;
        m.auth = auth;
      });
      expect(await issuePaths(parse(none))).toEqual(['mailboxes.support.accessToken']);
      const both = withMailbox((m) => {
        delete m.password;
        m.auth = auth;
        m.accessToken = 'ya29.token';
        m.accessTokenFile = 'token.txt';
      });
      expect(await issuePaths(parse(both))).toContain('mailboxes.support.accessTokenFile');
      const withPassword = withMailbox((m) => {
        m.auth = auth;
        m.accessToken = 'ya29.token';
      });
      expect(await issuePaths(parse(withPassword))).toEqual(['mailboxes.support.password']);
    }
  });

  it('accepts an access token alone for xoauth2', async () => {
    const config = await parse(
      withMailbox((m) => {
        delete m.password;
        m.auth = 'xoauth2';
        m.accessToken = 'ya29.token';
      }),
    );
    expect(config.mailboxes.support).toMatchObject({ auth: 'xoauth2', accessToken: 'ya29.token' });
    expect(config.mailboxes.support!.password).toBeUndefined();
  });

  it('auto needs a password or a token, and accepts either', async () => {
    const none = withMailbox((m) => {
      delete m.password;
    });
    expect(await issuePaths(parse(none))).toEqual(['mailboxes.support.password']);
    const token = withMailbox((m) => {
      delete m.password;
      m.accessToken = 'ya29.token';
    });
    expect((await parse(token)).mailboxes.support!.auth).toBe('auto');
  });
});

describe('clear-text credentials', () => {
  it('refuses tls: none with a password unless allowPlaintextAuth is set', async () => {
    const text = withMailbox((m) => {
      m.tls = 'none';
    });
    expect(await issuePaths(parse(text))).toEqual(['mailboxes.support.tls']);
  });

  it('accepts tls: none with allowPlaintextAuth: true, on port 110 by default', async () => {
    const config = await parse(
      withMailbox((m) => {
        m.tls = 'none';
        m.allowPlaintextAuth = true;
      }),
    );
    expect(config.mailboxes.support).toMatchObject({ tls: 'none', port: 110, allowPlaintextAuth: true });
  });

  it('accepts allowPlaintextAuth: true with TLS (pointless, harmless)', async () => {
    const config = await parse(
      withMailbox((m) => {
        m.tls = 'starttls';
        m.allowPlaintextAuth = true;
      }),
    );
    expect(config.mailboxes.support).toMatchObject({ tls: 'starttls', port: 110 });
  });

  it('applies to access tokens too', async () => {
    const text = withMailbox((m) => {
      delete m.password;
      m.auth = 'xoauth2';
      m.accessToken = 'ya29.token';
      m.tls = 'none';
    });
    expect(await issuePaths(parse(text))).toEqual(['mailboxes.support.tls']);
  });
});

describe('references and counts', () => {
  it('reports a mailbox naming an unknown webhook', async () => {
    const text = withMailbox((m) => {
      m.webhook = 'tickets2';
    });
    const paths = await issuePaths(parse(text));
    expect(paths).toEqual(['mailboxes.support.webhook']);
  });

  it('reports a deadLetterWebhook naming an unknown webhook, and defaults it to the mailbox webhook', async () => {
    const text = withMailbox((m) => {
      m.deadLetterWebhook = 'alerts';
    });
    expect(await issuePaths(parse(text))).toEqual(['mailboxes.support.deadLetterWebhook']);
    const config = await parse(withMailbox(() => {}));
    expect(config.mailboxes.support?.deadLetterWebhook).toBe(config.mailboxes.support?.webhook);
  });

  it('refuses an oversize policy it does not know', async () => {
    const text = withMailbox((m) => {
      m.oversize = 'truncate';
    });
    expect(await issuePaths(parse(text))).toEqual(['mailboxes.support.oversize']);
  });

  it('requires at least one mailbox and one webhook', async () => {
    const empty = configText((doc) => {
      doc.mailboxes = {};
      doc.webhooks = {};
    });
    expect(await issuePaths(parse(empty))).toEqual(['mailboxes', 'webhooks']);
    const missing = configText((doc) => {
      delete doc.mailboxes;
      delete doc.webhooks;
    });
    expect(await issuePaths(parse(missing))).toEqual(['mailboxes', 'webhooks']);
  });

  it('requires exactly one of secret and secretFile', async () => {
    const none = configText((doc) => {
      delete doc.webhooks.tickets.secret;
    });
    expect(await issuePaths(parse(none))).toEqual(['webhooks.tickets.secret']);
    const both = configText((doc) => {
      doc.webhooks.tickets.secretFile = 'secret.txt';
    });
    expect(await issuePaths(parse(both))).toEqual(['webhooks.tickets.secretFile']);
  });

  it('requires rawTtl to cover the longest retryFor', async () => {
    const text = configText((doc) => {
      doc.webhooks.tickets.retryFor = '20d';
      doc.webhooks.other = { url: 'https://other.example.com/', secret: SECRET, retryFor: '1h' };
    });
    expect(await issuePaths(parse(text))).toEqual(['delivery.rawTtl']);
  });
});

describe('dedupe', () => {
  it('is off unless the section is there, and defaults to skip within 24 h', async () => {
    expect((await parse(configText())).dedupe).toBeUndefined();
    const config = await parse(configText((doc) => Object.assign(doc, { dedupe: {} })));
    expect(config.dedupe).toEqual({ windowMs: 24 * 3_600_000, mode: 'skip' });
  });

  it('refuses mode: mark beside a postmark-format webhook (no place for duplicateOf)', async () => {
    const text = configText((doc) => {
      doc.webhooks.tickets.format = 'postmark';
      Object.assign(doc, { dedupe: { mode: 'mark', window: '1h' } });
    });
    expect(await issuePaths(parse(text))).toEqual(['dedupe.mode']);
    const skip = configText((doc) => {
      doc.webhooks.tickets.format = 'postmark';
      Object.assign(doc, { dedupe: { mode: 'skip' } });
    });
    expect((await parse(skip)).dedupe?.mode).toBe('skip');
  });
});
