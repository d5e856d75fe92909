// Security regression: no secret value ever appears in an issue, an error message or a masked URL.

import { describe, expect, it } from 'vitest';
import { maskUrlPassword } from '../../../src/config/index.ts';
import { configText, issuesOf, PASSWORD, parse } from './helpers.ts';

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

  it('maskUrlPassword keeps the user and host of a Redis URL and masks its password', () => {
    expect(maskUrlPassword(`rediss://worker:${REDIS_PASSWORD}@redis.example.com:6380/2`)).toBe(
      'rediss://worker:****@redis.example.com:6380/2',
    );
    expect(maskUrlPassword('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(maskUrlPassword(`not a url ${REDIS_PASSWORD}`)).toBe('****');
  });
});
