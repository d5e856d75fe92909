// The Config handed to the rest of pophook: defaults, units in names, env overrides, deep freeze.

import { describe, expect, it } from 'vitest';
import { configText, issuesOf, PASSWORD, parse, SECRET } from './helpers.ts';

describe('defaults and names', () => {
  it('fills every default, copies ids and puts units in names', async () => {
    const config = await parse(configText());
    expect(config).toEqual({
      redis: { url: 'redis://127.0.0.1:6379', prefix: 'pophook', cluster: false },
      log: { level: 'info' },
      webhooks: {
        tickets: {
          id: 'tickets',
          url: 'https://tickets.example.com/hooks/email',
          secret: SECRET,
          timeoutMs: 30_000,
          retryForMs: 86_400_000,
          retryDelayMs: 5_000,
          retryMaxDelayMs: 1_800_000,
          headers: {},
          format: 'pophook',
          attachments: { mode: 'inline', referenceFromBytes: 256_000 },
        },
      },
      mailboxes: {
        support: {
          id: 'support',
          host: 'pop.example.com',
          port: 995,
          tls: 'implicit',
          username: 'support@example.com',
          password: PASSWORD,
          auth: 'auto',
          allowPlaintextAuth: false,
          pollIntervalMs: 60_000,
          delete: true,
          maxMessageBytes: 50_000_000,
          oversize: 'dead-letter',
          startAt: { mode: 'everything' },
          loginDelay: 'honour',
          batchMessages: 500,
          batchBytes: 200_000_000,
          webhook: 'tickets',
          deadLetterWebhook: 'tickets',
          // The shorthand is one default route.
          routing: { mode: 'first', routes: [{ name: 'default', deliver: ['tickets'], drop: false }] },
          trustedAuthservIds: [],
          winmailDat: 'keep',
          connectTimeoutMs: 15_000,
          commandTimeoutMs: 60_000,
          sessionTimeoutMs: 1_800_000,
        },
      },
      delivery: {
        concurrency: 8,
        shards: 1,
        parseThreads: 1,
        parseTimeoutMs: 30_000,
        maxParts: 1000,
        maxDepth: 20,
        maxHeaderBytes: 1_000_000,
        rawTtlMs: 1_209_600_000,
      },
      watchdog: { periodMs: 30_000, stallAfterMs: 300_000, staleIntervals: 3 },
    });
    expect(config.http).toBeUndefined();
  });

  it('converts every duration and size it is given', async () => {
    const config = await parse(
      configText((doc) => {
        Object.assign(doc.mailboxes.support, {
          tls: 'starttls',
          pollInterval: '5m',
          maxMessageSize: '25MiB',
          batchSize: '1GB',
          batchMessages: 10,
          connectTimeout: '500ms',
          commandTimeout: '2m',
        });
        Object.assign(doc.webhooks.tickets, { timeout: '10s', retryFor: '3d' });
        doc.delivery = {
          parseTimeout: '1m',
          maxHeaderSize: '64KiB',
          rawTtl: '30d',
        };
        doc.http = { port: '9000', host: '127.0.0.1' };
      }),
    );
    expect(config.mailboxes.support).toMatchObject({
      port: 110,
      pollIntervalMs: 300_000,
      maxMessageBytes: 26_214_400,
      batchBytes: 1_000_000_000,
      batchMessages: 10,
      connectTimeoutMs: 500,
      commandTimeoutMs: 120_000,
    });
    expect(config.webhooks.tickets).toMatchObject({ timeoutMs: 10_000, retryForMs: 259_200_000 });
    expect(config.delivery).toMatchObject({
      parseTimeoutMs: 60_000,
      maxHeaderBytes: 65_536,
      rawTtlMs: 2_592_000_000,
    });
    expect(config.http).toEqual({ port: 9000, host: '127.0.0.1' });
  });

  it('treats an empty http.token as no dashboard, and keeps a long one', async () => {
    const off = await parse(configText((doc) => (doc.http = { token: '${ADMIN_TOKEN:-}' })));
    expect(off.http).toEqual({ port: 9464, host: '0.0.0.0' });
    const on = await parse(configText((doc) => (doc.http = { token: 'sixteen-chars-ok' })));
    expect(on.http?.token).toBe('sixteen-chars-ok');
  });

  it('refuses a pollInterval under 1s and durations or sizes without units', async () => {
    const text = configText((doc) => {
      Object.assign(doc.mailboxes.support, {
        pollInterval: '999ms',
        maxMessageSize: 1000,
        connectTimeout: 15,
      });
    });
    const paths = (await issuesOf(parse(text))).map((issue) => issue.path);
    expect(paths).toEqual([
      'mailboxes.support.connectTimeout',
      'mailboxes.support.maxMessageSize',
      'mailboxes.support.pollInterval',
    ]);
  });

  it('reports a mailbox that is not a mapping instead of crashing', async () => {
    const text = configText((doc) => {
      doc.mailboxes.support = null;
      doc.webhooks.tickets = 'https://example.com';
    });
    const paths = (await issuesOf(parse(text))).map((issue) => issue.path);
    expect(paths).toEqual(['mailboxes.support', 'webhooks.tickets']);
  });
});

describe('YAML conveniences', () => {
  it('merges an anchored mailbox into another with <<', async () => {
    const text = [
      'webhooks: { tickets: { url: "https://t.example.com/", secret: "${SECRET}" } }',
      'mailboxes:',
      '  support: &pop3',
      '    host: pop.example.com',
      '    username: support@example.com',
      '    password: one',
      '    webhook: tickets',
      '  sales:',
      '    <<: *pop3',
      '    username: sales@example.com',
      '    password: two',
    ].join('\n');
    const config = await parse(text, { SECRET });
    expect(config.mailboxes.sales).toMatchObject({ id: 'sales', host: 'pop.example.com', password: 'two' });
    expect(config.mailboxes.support).toMatchObject({ username: 'support@example.com', password: 'one' });
  });
});

describe('environment overrides', () => {
  it('REDIS_URL replaces redis.url, and an empty REDIS_URL does not', async () => {
    const text = configText((doc) => (doc.redis = { url: 'redis://file-host:6379' }));
    const overridden = await parse(text, { REDIS_URL: 'rediss://env-host:6380' });
    expect(overridden.redis.url).toBe('rediss://env-host:6380');
    expect((await parse(text, { REDIS_URL: '' })).redis.url).toBe('redis://file-host:6379');
    expect((await parse(configText(), { REDIS_URL: 'redis://env-only:6379' })).redis.url).toBe(
      'redis://env-only:6379',
    );
  });

  it('a bad REDIS_URL is an issue at redis.url that names the variable', async () => {
    const issues = await issuesOf(parse(configText(), { REDIS_URL: 'http://nope' }));
    expect(issues.map((issue) => issue.path)).toEqual(['redis.url']);
    expect(issues[0]!.message).toContain('REDIS_URL');
  });

  it('REDIS_URL wins over an unset variable in redis.url', async () => {
    const text = configText((doc) => (doc.redis = { url: '${UNSET_REDIS}' }));
    expect((await parse(text, { REDIS_URL: 'redis://h:1' })).redis.url).toBe('redis://h:1');
  });

  it('LOG_LEVEL replaces log.level', async () => {
    const text = configText((doc) => (doc.log = { level: 'warn' }));
    expect((await parse(text, { LOG_LEVEL: 'debug' })).log.level).toBe('debug');
    expect((await issuesOf(parse(text, { LOG_LEVEL: 'loud' }))).map((issue) => issue.path)).toEqual([
      'log.level',
    ]);
  });
});

describe('frozen output', () => {
  it('throws on any mutation, at any depth', async () => {
    const config = await parse(configText((doc) => (doc.webhooks.tickets.headers = { 'X-A': 'a' })));
    const mailbox = config.mailboxes.support as { port: number };
    expect(() => {
      mailbox.port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.webhooks.tickets!.headers as Record<string, string>)['X-B'] = 'b';
    }).toThrow(TypeError);
    expect(() => {
      (config as { redis: unknown }).redis = {};
    }).toThrow(TypeError);
    expect(() => {
      delete (config.mailboxes as Record<string, unknown>).support;
    }).toThrow(TypeError);
    expect(Object.isFrozen(config.delivery)).toBe(true);
  });
});

describe('onboarding and provider pace', () => {
  it('reads startAt as everything, now or a date (a bare date is its first instant, UTC)', async () => {
    const read = async (startAt: string) =>
      (await parse(configText((doc) => Object.assign(doc.mailboxes.support, { startAt })))).mailboxes.support!
        .startAt;
    expect(await read('now')).toEqual({ mode: 'now' });
    expect(await read('2026-01-31')).toEqual({
      mode: 'date',
      sinceMs: Date.UTC(2026, 0, 31),
      text: '2026-01-31',
    });
    expect(await read('2026-01-31T08:00:00+01:00')).toMatchObject({ sinceMs: Date.UTC(2026, 0, 31, 7) });
  });

  it('refuses a start point it cannot read, with the path', async () => {
    for (const startAt of ['yesterday', '31.01.2026', '2026-13-01']) {
      await expect(
        parse(configText((doc) => Object.assign(doc.mailboxes.support, { startAt }))),
      ).rejects.toThrow(/mailboxes\.support\.startAt: expected everything, now, or an ISO date/);
    }
  });

  it('gmail caps a listing at 250; other profiles and plain mailboxes have no cap', async () => {
    const gmail = await parse(
      configText((doc) => {
        Object.assign(doc.mailboxes.support, { provider: 'gmail', accessToken: 'x', loginDelay: 'ignore' });
        delete (doc.mailboxes.support as Record<string, unknown>).host;
        delete (doc.mailboxes.support as Record<string, unknown>).password;
      }),
    );
    expect(gmail.mailboxes.support).toMatchObject({ listingCap: 250, loginDelay: 'ignore' });
    const plain = await parse(configText(() => {}));
    expect(plain.mailboxes.support?.listingCap).toBeUndefined();
  });
});

describe('startAt with provider gmail', () => {
  it("is refused unless everything: skipped messages would fill Gmail's 250-message listing for good", async () => {
    const gmail = (startAt: string) =>
      parse(
        configText((doc) => {
          Object.assign(doc.mailboxes.support, { provider: 'gmail', startAt, accessToken: 'x' });
          delete (doc.mailboxes.support as Record<string, unknown>).host;
          delete (doc.mailboxes.support as Record<string, unknown>).password;
        }),
      );
    await expect(gmail('now')).rejects.toThrow(/mailboxes\.support\.startAt: Gmail would keep listing/);
    await expect(gmail('everything')).resolves.toBeDefined();
  });
});
