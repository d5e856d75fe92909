// The test receiver other suites lean on: verification, recording, the scriptable policies, going down
// and back up, the body bound, waitFor and stop.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { webhookHeaders } from '../../../src/webhook/sign.ts';
import { type Receiver, type ReceiverOptions, startReceiver } from '../../helpers/receiver.ts';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const OTHER_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const receivers: Receiver[] = [];

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((rx) => rx.stop()));
});

async function receiver(options: Partial<ReceiverOptions> = {}): Promise<Receiver> {
  const rx = await startReceiver({ secret: SECRET, ...options });
  receivers.push(rx);
  return rx;
}

/** A signed POST; resolves with the status, or with the error code when the connection fails. */
async function post(rx: Receiver, webhookId: string, secret = SECRET): Promise<number | string> {
  const body = Buffer.from(JSON.stringify({ id: webhookId }));
  const headers = webhookHeaders(secret, webhookId, Math.floor(Date.now() / 1000), body);
  try {
    const response = await request(rx.url, { method: 'POST', headers: { ...headers }, body });
    await response.body.dump();
    return response.statusCode;
  } catch (error) {
    return String((error as { code?: string }).code);
  }
}

describe('verification and recording', () => {
  it('records a signed delivery as verified and answers 200 by default', async () => {
    const rx = await receiver();
    expect(await post(rx, 'msg_a')).toBe(200);
    const [delivery] = await rx.waitFor((ds) => ds[0]?.answered === true);
    expect(delivery).toMatchObject({
      webhookId: 'msg_a',
      verified: true,
      status: 200,
      attempt: 1,
      path: '/webhook',
    });
    expect(delivery?.json).toEqual({ id: 'msg_a' });
  });

  it('keepBodies: false verifies each body whole and records it without its bytes', async () => {
    const rx = await receiver({ keepBodies: false });
    expect(await post(rx, 'msg_a')).toBe(200);
    expect(await post(rx, 'msg_b', OTHER_SECRET)).toBe(401);
    expect(rx.deliveries.map((d) => [d.webhookId, d.verified, d.body.length, d.json])).toEqual([
      ['msg_a', true, 0, undefined],
      ['msg_b', false, 0, undefined],
    ]);
    expect(rx.acceptedCount()).toBe(1);
  });

  it('answers 401 to a wrong signature and to an unsigned request, recording why', async () => {
    const rx = await receiver();
    expect(await post(rx, 'msg_a', OTHER_SECRET)).toBe(401);
    const unsigned = await request(rx.url, { method: 'POST', body: 'not json' });
    await unsigned.body.dump();
    expect(unsigned.statusCode).toBe(401);
    expect(rx.deliveries.map((d) => [d.verified, typeof d.verifyError])).toEqual([
      [false, 'string'],
      [false, 'string'],
    ]);
    expect(rx.deliveries[1]?.json).toBeUndefined();
  });
});

describe('policies', () => {
  it('plays a sequence in order, repeats its last entry, and restarts it on setRespond', async () => {
    const rx = await receiver({ respond: [500, { status: 429, headers: { 'retry-after': '1' } }, 200] });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await post(rx, 'msg_a'));
    expect(statuses).toEqual([500, 429, 200, 200]);
    expect(rx.deliveries.map((d) => d.attempt)).toEqual([1, 2, 3, 4]);
    await rx.setRespond([503, 204]);
    expect([await post(rx, 'msg_b'), await post(rx, 'msg_b')]).toEqual([503, 204]);
    expect(
      rx
        .byWebhookId()
        .get('msg_b')
        ?.map((d) => d.status),
    ).toEqual([503, 204]);
  });

  it('answers by a (sync or async) function of the webhook-id and attempt', async () => {
    const rx = await receiver({
      respond: ({ webhookId, attempt }) => (webhookId === 'msg_a' && attempt < 3 ? 503 : 200),
    });
    const a = [
      await post(rx, 'msg_a'),
      await post(rx, 'msg_b'),
      await post(rx, 'msg_a'),
      await post(rx, 'msg_a'),
    ];
    expect(a).toEqual([503, 200, 503, 200]);
    expect(rx.deliveries.map((d) => d.attempt)).toEqual([1, 1, 2, 3]);
    await rx.setRespond(async () => ({ status: 202, body: 'queued' }));
    expect(await post(rx, 'msg_c')).toBe(202);
    // Only the 200s count as accepted (the 202 does not).
    expect(rx.acceptedCount()).toBe(2);
  });

  it("'down' refuses connections, and any other policy brings it back on the same port", async () => {
    const rx = await receiver({ respond: 'down' });
    expect(await post(rx, 'msg_a')).toBe('ECONNREFUSED');
    await rx.setRespond(200);
    expect(await post(rx, 'msg_a')).toBe(200);
    await rx.setRespond('down');
    expect(await post(rx, 'msg_a')).toBe('ECONNREFUSED');
    await rx.setRespond(204);
    expect(await post(rx, 'msg_a')).toBe(204);
  });

  it("'drop' reads the request, records it, and destroys the socket", async () => {
    const rx = await receiver({ respond: 'drop' });
    expect(await post(rx, 'msg_a')).toBe('UND_ERR_SOCKET');
    expect(rx.deliveries.map((d) => [d.status, d.verified, d.answered])).toEqual([['drop', true, false]]);
  });

  it('records a client that gave up during a delay as not answered', async () => {
    const rx = await receiver({ respond: { status: 200, delayMs: 5_000 } });
    const signal = AbortSignal.timeout(100);
    await expect(request(rx.url, { method: 'POST', body: '{}', signal })).rejects.toThrow();
    await rx.stop();
    expect(rx.deliveries.map((d) => [d.status, d.answered])).toEqual([[200, false]]);
  });
});

describe('bounds', () => {
  it.each([
    ['a declared length', () => Buffer.alloc(2_000, 'x')],
    ['a chunked stream', () => Readable.from([Buffer.alloc(600, 'x'), Buffer.alloc(600, 'x')])],
  ])('answers 413 to a body over maxBodyBytes with %s, keeping none of it', async (_name, body) => {
    const rx = await receiver({ maxBodyBytes: 1_000 });
    const response = await request(rx.url, { method: 'POST', body: body() });
    await response.body.dump();
    expect(response.statusCode).toBe(413);
    expect(rx.deliveries.map((d) => [d.tooLarge, d.body.length, d.verified])).toEqual([[true, 0, false]]);
  });
});

describe('waitFor and stop', () => {
  it('resolves when a later delivery meets the predicate', async () => {
    const rx = await receiver();
    const waiting = rx.waitFor((ds) => ds.some((d) => d.webhookId === 'msg_z'), 5_000);
    await post(rx, 'msg_y');
    await post(rx, 'msg_z');
    expect((await waiting).map((d) => d.webhookId)).toEqual(['msg_y', 'msg_z']);
  });

  it('rejects after its timeout, and when the predicate throws', async () => {
    const rx = await receiver();
    await expect(rx.waitFor((ds) => ds.length > 0, 50)).rejects.toThrow(/not met/);
    await expect(
      rx.waitFor(() => {
        throw new Error('bad predicate');
      }),
    ).rejects.toThrow('bad predicate');
  });

  it('stop is idempotent, rejects pending waiters and does not wait for delayed answers', async () => {
    const rx = await receiver({ respond: { status: 200, delayMs: 60_000 } });
    const pending = post(rx, 'msg_a');
    const waiting = rx.waitFor(() => false, 60_000);
    await rx.waitFor((ds) => ds.length === 1);
    const started = Date.now();
    await Promise.all([rx.stop(), rx.stop(), expect(waiting).rejects.toThrow('receiver stopped')]);
    expect(await pending).toBe('UND_ERR_SOCKET');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('clear forgets deliveries, attempt numbers and the accepted count', async () => {
    const rx = await receiver();
    await post(rx, 'msg_a');
    expect(rx.acceptedCount()).toBe(1);
    rx.clear();
    expect(rx.acceptedCount()).toBe(0);
    await post(rx, 'msg_a');
    expect(rx.deliveries.map((d) => d.attempt)).toEqual([1]);
    expect(rx.acceptedCount()).toBe(1);
  });
});
