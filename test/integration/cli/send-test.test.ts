// Webhooks tested with a signed test event, against a real Standard Webhooks receiver: `send-test WEBHOOK`
// and `check` POST {"type": "pophook.test", …} with headers the official library verifies; a 2xx passes,
// a 4xx fails with its status and the first line of the answer.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type Receiver, startReceiver } from '../../helpers/receiver.ts';
import { cli } from '../../helpers/run-cli.ts';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
let dir: string;
let receiver: Receiver;
let config: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pophook-send-test-'));
  receiver = await startReceiver({ secret: SECRET });
  config = join(dir, 'pophook.yml');
  await writeFile(
    config,
    stringify({
      // Nothing listens on port 1: check's Redis and mailbox lines fail at once; the webhook line is tested.
      redis: { url: 'redis://127.0.0.1:1' },
      webhooks: { hook: { url: receiver.url, secret: SECRET, headers: { 'X-Team': 'ops' } } },
      mailboxes: {
        inbox: {
          host: '127.0.0.1',
          port: 1,
          tls: 'none',
          allowPlaintextAuth: true,
          username: 'u',
          password: 'p',
          webhook: 'hook',
        },
      },
    }),
  );
});

afterAll(async () => {
  await receiver?.stop();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  receiver.clear();
  await receiver.setRespond((request) => (request.verified ? 200 : 401));
});

describe('pophook send-test WEBHOOK', () => {
  it('POSTs a signed pophook.test event the receiver verifies; exit 0 on 2xx', async () => {
    const { code, stdout } = await cli(['send-test', 'hook', '--config', config]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ok\s+webhook hook: HTTP 200/);
    const [delivery] = receiver.deliveries;
    expect(receiver.deliveries).toHaveLength(1);
    expect(delivery?.method).toBe('POST');
    expect(delivery?.verified).toBe(true);
    expect(delivery?.headers['x-team']).toBe('ops');
    expect(delivery?.json).toMatchObject({ type: 'pophook.test', id: delivery?.webhookId, webhook: 'hook' });
  });

  it('a 400 is a failure: exit 1, WEBHOOK_HTTP_4XX with the status and the first line of the answer', async () => {
    await receiver.setRespond({ status: 400, body: '\ninvalid payload: missing field subject\nat line 1\n' });
    const { code, stdout } = await cli(['send-test', 'hook', '--config', config, '--json']);
    expect(code).toBe(1);
    const [result] = JSON.parse(stdout) as Array<{ ok: boolean; detail: string }>;
    expect(result?.ok).toBe(false);
    expect(result?.detail).toBe('WEBHOOK_HTTP_4XX: HTTP 400: invalid payload: missing field subject');
  });

  it('an unknown webhook id: exit 1 with WEBHOOK_UNKNOWN, nothing sent', async () => {
    const { code, stderr } = await cli(['send-test', 'nope', '--config', config]);
    expect(code).toBe(1);
    expect(stderr).toContain('WEBHOOK_UNKNOWN');
    expect(receiver.deliveries).toHaveLength(0);
  });

  it.each([[[]], [['a', 'b']], [['hook', '--bogus']]])('usage mistakes exit 2: %j', async (args) => {
    const { code, stderr } = await cli(['send-test', ...args, '--config', config]);
    expect(code).toBe(2);
    expect(stderr).toContain('Usage: pophook send-test');
    expect(receiver.deliveries).toHaveLength(0);
  });
});

describe('pophook check', () => {
  it('tests each webhook with a signed POST, and a 400 fails the check with its first line', async () => {
    await receiver.setRespond({ status: 400, body: 'unknown event type' });
    const { code, stdout } = await cli(['check', '--config', config]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^FAIL\s+webhook hook: WEBHOOK_HTTP_4XX: HTTP 400: unknown event type$/m);
    expect(receiver.deliveries.map((d) => [d.method, d.verified])).toEqual([['POST', true]]);
  });

  it('passes the webhook on a verified 2xx', async () => {
    const { stdout } = await cli(['check', '--config', config]);
    expect(stdout).toMatch(/^ok\s+webhook hook: HTTP 200 to a signed pophook.test event/m);
  });
});
