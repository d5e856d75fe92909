// Security regression: no secret value ever appears in an issue, an error message or redactConfig output.

import { describe, expect, it } from 'vitest';
import { redactConfig } from '../../../src/config/index.ts';
import { configText, type Doc, issuesOf, PASSWORD, parse, SECRET } from './helpers.ts';

const HEADER_TOKEN = 'hdr-token-9f8e7d6c';
const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const REDIS_PASSWORD = 'redis-pw-a1b2c3';

async function rejection(text: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const error = await parse(text, env).catch((caught: unknown) => caught);
  const issues = await issuesOf(Promise.reject(error));
  return `${(error as Error).message}\n${JSON.stringify(issues)}`;
}

describe('secrets-not-echoed', () => {
  it('keeps secrets out of issues about the secrets themselves', async () => {
    const weakSecret = 'whsec_bm90LXJhbmRvbS1lbm91Z2g=';
    const text = configText((doc) => {
      doc.webhooks.tickets.secret = weakSecret;
      doc.mailboxes.support.tls = 'none';
      doc.mailboxes.support.password = `${PASSWORD}\nRETR 1`;
      doc.http = { token: 'short-token' };
      doc.redis = { url: `redis://user:${REDIS_PASSWORD}@`, prefix: 'bad prefix' };
    });
    const output = await rejection(text);
    for (const secret of [weakSecret, 'bm90LXJhbmRvbS1lbm91Z2g', PASSWORD, 'short-token', REDIS_PASSWORD]) {
      expect(output).not.toContain(secret);
    }
  });

  it('keeps secrets out of issues when they land in the wrong field', async () => {
    const text = configText((doc) => {
      doc.mailboxes.support.pasword = PASSWORD;
      doc.mailboxes.support.port = PASSWORD;
      doc.mailboxes.support.tls = PASSWORD;
      doc.mailboxes.support.pollInterval = PASSWORD;
      doc.webhooks.tickets.url = PASSWORD;
      doc.webhooks.tickets.headers = { 'Bad Header': PASSWORD, 'X-Ok': `${PASSWORD}\r\n` };
      doc.delivery = PASSWORD;
      doc.log = { level: PASSWORD };
    });
    expect(await rejection(text)).not.toContain(PASSWORD);
  });

  it('keeps secrets out of YAML syntax errors', async () => {
    const text = `webhooks:\n  tickets:\n    secret: "${PASSWORD}\\q"\n  bad: [ ${PASSWORD}\n`;
    expect(await rejection(text)).not.toContain(PASSWORD);
  });

  it('keeps interpolated secrets out of issues', async () => {
    const text = configText((doc) => {
      doc.webhooks.tickets.secret = '${TICKETS_SECRET}';
    });
    expect(await rejection(text, { TICKETS_SECRET: 'whsec_not base64 at all' })).not.toContain(
      'not base64 at all',
    );
  });

  it('redactConfig masks passwords, tokens, secrets, header values and the Redis password', async () => {
    const text = configText((doc) => {
      doc.redis = { url: `rediss://worker:${REDIS_PASSWORD}@redis.example.com:6380/2` };
      doc.http = { token: ADMIN_TOKEN };
      doc.webhooks.tickets.headers = { Authorization: `Bearer ${HEADER_TOKEN}` };
      doc.mailboxes.oauth = {
        host: 'outlook.office365.com',
        username: 'u@example.com',
        auth: 'xoauth2',
        accessToken: 'ya29.access-token-value',
        webhook: 'tickets',
      };
    });
    const config = await parse(text);
    const printed = JSON.stringify(redactConfig(config));
    for (const secret of [
      PASSWORD,
      SECRET,
      HEADER_TOKEN,
      ADMIN_TOKEN,
      REDIS_PASSWORD,
      'ya29.access-token-value',
    ]) {
      expect(printed).not.toContain(secret);
    }
    const redacted = redactConfig(config) as Doc;
    expect(redacted.redis.url).toBe('rediss://worker:****@redis.example.com:6380/2');
    expect(redacted.webhooks.tickets.headers).toEqual({ Authorization: '****' });
    expect(redacted.mailboxes.support.host).toBe('pop.example.com');
    expect(redacted.mailboxes.support.password).toBe('****');
    // The original stays intact.
    expect(config.mailboxes.support!.password).toBe(PASSWORD);
  });
});
