// WebhookSender against a real local receiver: signing that standardwebhooks accepts, the status → error
// code mapping, timeouts, network failures, bounded error bodies, aborts, and secrets kept out of errors.
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ErrorCode, isPophookError, type PophookError } from '../../../src/errors.ts';
import type { Logger } from '../../../src/telemetry/logger.ts';
import { type WebhookMessage, WebhookSender, type WebhookTarget } from '../../../src/webhook/send.ts';
import { freePort } from '../../helpers/ports.ts';
import { type Receiver, startReceiver } from '../../helpers/receiver.ts';
import { createTestCertificates } from '../../helpers/test-certs.ts';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const TOKEN = `tok-${randomBytes(8).toString('hex')}`;
const logLines: unknown[] = [];
const captureLogger: Logger = {
  debug: (...args: unknown[]) => void logLines.push(args),
  info: (...args: unknown[]) => void logLines.push(args),
  warn: (...args: unknown[]) => void logLines.push(args),
  error: (...args: unknown[]) => void logLines.push(args),
  child: () => captureLogger,
};

let rx: Receiver;
let sender: WebhookSender;
let counter = 0;

beforeAll(async () => {
  rx = await startReceiver({ secret: SECRET });
  sender = new WebhookSender({ logger: captureLogger });
});

afterAll(async () => {
  await sender?.close();
  await rx?.stop();
});

beforeEach(async () => {
  rx.clear();
  await rx.setRespond((request) => (request.verified ? 200 : 401));
});

function target(overrides: Partial<WebhookTarget> = {}): WebhookTarget {
  return { id: 'tickets', url: rx.url, secret: SECRET, timeoutMs: 5_000, headers: {}, ...overrides };
}

/** A message whose body is a Buffer (the small-message path), so tests can compare bytes. */
function message(): WebhookMessage & { body: Buffer } {
  const webhookId = `msg_test${++counter}`;
  return { webhookId, body: Buffer.from(JSON.stringify({ id: webhookId, version: 1, subject: 'Grüße' })) };
}

async function rejection(promise: Promise<unknown>): Promise<PophookError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  return outcome.error as PophookError;
}

function expectCode(error: unknown, code: ErrorCode, retryable: boolean): void {
  expect(isPophookError(error, code), inspect(error)).toBe(true);
  expect((error as PophookError).retryable).toBe(retryable);
}

describe('a 2xx answer', () => {
  it('resolves with the status, and the receiver verified the signature', async () => {
    const msg = message();
    const result = await sender.send(target(), msg);
    expect(result.status).toBe(200);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    const [delivery] = rx.deliveries;
    expect(delivery?.verified).toBe(true);
    expect(delivery?.webhookId).toBe(msg.webhookId);
    expect(delivery?.body.equals(msg.body)).toBe(true);
    expect(delivery?.json).toEqual({ id: msg.webhookId, version: 1, subject: 'Grüße' });
    expect(delivery?.method).toBe('POST');
    expect(delivery?.headers['content-type']).toBe('application/json');
  });

  it('takes an informational answer (103 Early Hints) for no answer: the final one counts', async () => {
    let requests = 0;
    const server = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
        // The first request's connection breaks after the hints: no answer came.
        if (++requests === 1) setImmediate(() => req.socket.destroy());
        else res.writeHead(202).end('queued');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const url = `http://127.0.0.1:${port}/hook`;
      expectCode(await rejection(sender.send(target({ url }), message())), 'WEBHOOK_NETWORK', true);
      expect((await sender.send(target({ url }), message())).status).toBe(202);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('resolves on 204 too', async () => {
    await rx.setRespond(204);
    expect((await sender.send(target(), message())).status).toBe(204);
  });

  it('keeps the same webhook-id across attempts, with a fresh timestamp and signature each time', async () => {
    await rx.setRespond([500, 200]);
    const msg = message();
    expectCode(await rejection(sender.send(target(), msg)), 'WEBHOOK_HTTP_RETRYABLE', true);
    await sleep(1_010 - (Date.now() % 1_000)); // into the next second
    await sender.send(target(), msg);
    const attempts = rx.byWebhookId().get(msg.webhookId) ?? [];
    expect(attempts.map((d) => [d.attempt, d.verified, d.status])).toEqual([
      [1, true, 500],
      [2, true, 200],
    ]);
    expect(attempts[1]?.timestamp).toBeGreaterThan(attempts[0]?.timestamp ?? Number.POSITIVE_INFINITY);
    expect(attempts[1]?.signature).not.toBe(attempts[0]?.signature);
  });

  it('sends custom headers, but ours cannot be overridden by them', async () => {
    const msg = message();
    const headers = {
      Authorization: `Bearer ${TOKEN}`,
      'X-Trace': 'abc',
      'Webhook-Id': 'msg_forged',
      'webhook-timestamp': '1',
      'WEBHOOK-SIGNATURE': 'v1,forged',
      'Content-Type': 'text/plain',
      'content-length': '3',
    };
    await sender.send(target({ headers }), msg);
    const delivery = rx.deliveries[0];
    expect(delivery?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(delivery?.headers['x-trace']).toBe('abc');
    expect(delivery?.webhookId).toBe(msg.webhookId);
    expect(delivery?.headers['content-type']).toBe('application/json');
    expect(delivery?.headers['content-length']).toBe(String(msg.body.length));
    expect(delivery?.verified).toBe(true);
  });
});

describe('error statuses', () => {
  it('maps 400 to WEBHOOK_HTTP_4XX (permanent) with status line, webhook and the first KiB of the body', async () => {
    await rx.setRespond({ status: 400, body: `bad payload: ${'x'.repeat(5_000)}` });
    const msg = message();
    const error = await rejection(sender.send(target(), msg));
    expectCode(error, 'WEBHOOK_HTTP_4XX', false);
    expect(error.details).toMatchObject({
      status: 400,
      statusText: 'Bad Request',
      webhook: 'tickets',
      webhookId: msg.webhookId,
    });
    expect(error.details.bodyExcerpt).toMatch(/^bad payload: x+$/);
    expect(String(error.details.bodyExcerpt).length).toBe(1024);
  });

  it('keeps no control character of the body and no half character at the cut', async () => {
    // 1023 bytes of text, then a 3-byte character the 1024-byte cut goes through.
    const body = `line1\r\n\x1b[2Jline2\u009b\x00${'y'.repeat(1023 - 19)}€ and more`;
    await rx.setRespond({ status: 422, body });
    const error = await rejection(sender.send(target(), message()));
    const excerpt = String(error.details.bodyExcerpt);
    expect(excerpt).not.toMatch(/[\x00-\x1f\x7f-\x9f\uFFFD]/);
    expect(excerpt).toMatch(/^line1 \[2Jline2 y+$/);
  });

  it.each([410, 413, 422])('maps %i to WEBHOOK_HTTP_4XX', async (status) => {
    await rx.setRespond(status);
    expectCode(await rejection(sender.send(target(), message())), 'WEBHOOK_HTTP_4XX', false);
  });

  it.each([408, 425, 500, 502, 504])(
    'maps %i to WEBHOOK_HTTP_RETRYABLE without retryAfterMs',
    async (status) => {
      await rx.setRespond({ status, headers: { 'retry-after': '5' } });
      const error = await rejection(sender.send(target(), message()));
      expectCode(error, 'WEBHOOK_HTTP_RETRYABLE', true);
      expect(error.details.status).toBe(status);
      expect(error.details).not.toHaveProperty('retryAfterMs');
    },
  );

  it('reads Retry-After seconds on 429 and an HTTP-date on 503', async () => {
    await rx.setRespond([
      { status: 429, headers: { 'retry-after': '7' } },
      { status: 503, headers: { 'retry-after': new Date(Date.now() + 90_000).toUTCString() } },
      { status: 429, headers: { 'retry-after': 'later' } },
    ]);
    const seconds = await rejection(sender.send(target(), message()));
    expect(seconds.details).toMatchObject({ status: 429, retryAfterMs: 7_000 });
    const date = await rejection(sender.send(target(), message()));
    expect(date.details.status).toBe(503);
    expect(date.details.retryAfterMs).toBeGreaterThan(85_000);
    expect(date.details.retryAfterMs).toBeLessThanOrEqual(90_000);
    const garbage = await rejection(sender.send(target(), message()));
    expectCode(garbage, 'WEBHOOK_HTTP_RETRYABLE', true);
    expect(garbage.details).not.toHaveProperty('retryAfterMs');
  });

  it.each([301, 302, 307, 308])(
    'maps %i to WEBHOOK_REDIRECT and never requests the Location',
    async (status) => {
      await rx.setRespond((request) =>
        request.path === '/webhook' ? { status, headers: { location: `${rx.url}/moved` } } : 200,
      );
      const error = await rejection(sender.send(target(), message()));
      expectCode(error, 'WEBHOOK_REDIRECT', false);
      expect(error.details.status).toBe(status);
      await sleep(100);
      expect(rx.deliveries.map((d) => d.path)).toEqual(['/webhook']);
    },
  );
});

describe('timeouts and aborts', () => {
  it('gives WEBHOOK_TIMEOUT when the answer is slower than timeoutMs', async () => {
    await rx.setRespond({ status: 200, delayMs: 10_000 });
    const started = Date.now();
    const error = await rejection(sender.send(target({ timeoutMs: 300 }), message()));
    const elapsed = Date.now() - started;
    expectCode(error, 'WEBHOOK_TIMEOUT', true);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_300);
  });

  it('bounds a stalled error body by the same timeout, keeping the status', async () => {
    await rx.setRespond({ status: 500, bodyDelayMs: 10_000 });
    const started = Date.now();
    const error = await rejection(sender.send(target({ timeoutMs: 300 }), message()));
    expect(Date.now() - started).toBeLessThan(1_300);
    expectCode(error, 'WEBHOOK_HTTP_RETRYABLE', true);
    expect(error.details.status).toBe(500);
  });

  it('counts a 2xx whose body stalls as delivered, within the timeout', async () => {
    await rx.setRespond({ status: 200, bodyDelayMs: 10_000 });
    const started = Date.now();
    expect((await sender.send(target({ timeoutMs: 300 }), message())).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1_300);
  });

  it('rejects with the caller signal reason when aborted mid-request', async () => {
    await rx.setRespond({ status: 200, delayMs: 10_000 });
    const controller = new AbortController();
    const reason = new Error('shutting down');
    setTimeout(() => controller.abort(reason), 100);
    const started = Date.now();
    const error = await rejection(sender.send(target(), message(), { signal: controller.signal }));
    expect(error).toBe(reason);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('rejects at once with an already aborted signal', async () => {
    const signal = AbortSignal.abort();
    const error = await rejection(sender.send(target(), message(), { signal }));
    expect((error as Error).name).toBe('AbortError');
  });
});

describe('network failures', () => {
  it('gives WEBHOOK_NETWORK when the connection is refused', async () => {
    const url = `http://127.0.0.1:${await freePort()}/webhook`;
    const error = await rejection(sender.send(target({ url }), message()));
    expectCode(error, 'WEBHOOK_NETWORK', true);
    expect(error.details).toMatchObject({ webhook: 'tickets', errorCode: 'ECONNREFUSED' });
  });

  it('gives WEBHOOK_NETWORK when the receiver is down, and delivers once it is back', async () => {
    await rx.setRespond('down');
    expectCode(await rejection(sender.send(target(), message())), 'WEBHOOK_NETWORK', true);
    await rx.setRespond(200);
    expect((await sender.send(target(), message())).status).toBe(200);
  });

  it('gives WEBHOOK_NETWORK when the receiver drops the connection without answering', async () => {
    await rx.setRespond('drop');
    expectCode(await rejection(sender.send(target(), message())), 'WEBHOOK_NETWORK', true);
  });

  it('tls-verified: refuses a self-signed certificate with WEBHOOK_NETWORK, and never sends the body', async () => {
    const certs = await createTestCertificates();
    let requests = 0;
    const server = createHttpsServer(
      { cert: certs.selfSigned.certPem, key: certs.selfSigned.keyPem },
      (_req, res) => {
        requests++;
        res.end();
      },
    );
    try {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
      const error = await rejection(sender.send(target({ url }), message()));
      expectCode(error, 'WEBHOOK_NETWORK', true);
      expect(error.details.errorCode).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
      expect(requests).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await certs.cleanup();
    }
  });

  it('reuses connections after small error bodies', async () => {
    await rx.setRespond({ status: 400, body: 'e'.repeat(1_000) });
    for (let i = 0; i < 6; i++) await rejection(sender.send(target(), message()));
    // undici's pool may open a second socket while the first is settling; it does not open one each time.
    expect(new Set(rx.deliveries.map((d) => d.remotePort)).size).toBeLessThanOrEqual(2);
  });

  it('reuses connections after 2xx answers with a body, and drops one whose 2xx body runs past 64 KiB', async () => {
    await rx.setRespond({ status: 200, body: 'ok'.repeat(2_000) });
    for (let i = 0; i < 6; i++) expect((await sender.send(target(), message())).status).toBe(200);
    expect(new Set(rx.deliveries.map((d) => d.remotePort)).size).toBeLessThanOrEqual(2);
    rx.clear();
    await rx.setRespond([{ status: 200, body: Buffer.alloc(2 * 1024 * 1024, 'x') }, 200]);
    expect((await sender.send(target(), message())).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await sender.send(target(), message())).status).toBe(200);
    const [big, ...next] = rx.deliveries;
    expect(next.map((d) => d.remotePort)).not.toContain(big?.remotePort);
  });

  it('keeps only an excerpt of a 10 MB error body, drops that socket, and sends on', async () => {
    await rx.setRespond([{ status: 500, body: Buffer.alloc(10 * 1024 * 1024, 'x') }, 200]);
    const error = await rejection(sender.send(target(), message()));
    expectCode(error, 'WEBHOOK_HTTP_RETRYABLE', true);
    expect(error.details.bodyExcerpt).toBe('x'.repeat(1024));
    for (let i = 0; i < 3; i++) expect((await sender.send(target(), message())).status).toBe(200);
    const [big, ...next] = rx.deliveries;
    expect(next.map((d) => d.remotePort)).not.toContain(big?.remotePort);
  });
});

describe('malformed requests', () => {
  it.each([
    ['a relative URL', { url: '/webhook' }],
    ['an ftp URL', { url: 'ftp://127.0.0.1/webhook' }],
    ['credentials in the URL', { url: 'http://user:pw@127.0.0.1/webhook' }],
    ['a header value with CRLF', { headers: { 'x-injected': 'a\r\nx-evil: 1' } }],
    ['a bad secret', { secret: 'whsec_***' }],
  ])('gives WEBHOOK_INVALID_REQUEST (permanent) for %s', async (_name, overrides: Partial<WebhookTarget>) => {
    expectCode(await rejection(sender.send(target(overrides), message())), 'WEBHOOK_INVALID_REQUEST', false);
    expect(rx.deliveries).toEqual([]);
  });
});

describe('secrets-not-logged', () => {
  it('keeps the secret and header values out of every error, its cause, and the log', async () => {
    const headers = { authorization: `Bearer ${TOKEN}` };
    const key = SECRET.slice('whsec_'.length);
    const scenarios: Array<[Parameters<Receiver['setRespond']>[0], Partial<WebhookTarget>]> = [
      [{ status: 400, body: 'no' }, {}],
      [{ status: 503, headers: { 'retry-after': '1' } }, {}],
      [{ status: 302, headers: { location: '/elsewhere' } }, {}],
      [{ status: 200, delayMs: 5_000 }, { timeoutMs: 100 }],
      ['drop', {}],
      [200, { url: `http://127.0.0.1:${await freePort()}/webhook` }],
      [200, { headers: { ...headers, 'x-bad': `${TOKEN}\r\n` } }],
    ];
    logLines.length = 0;
    for (const [respond, overrides] of scenarios) {
      await rx.setRespond(respond);
      const error = await rejection(sender.send(target({ headers, ...overrides }), message()));
      const text = `${inspect(error, { depth: 20, showHidden: true })} ${JSON.stringify(error)}`;
      expect(text).not.toContain(key);
      expect(text).not.toContain(TOKEN);
    }
    const logged = inspect(logLines, { depth: 20 });
    expect(logged).not.toContain(key);
    expect(logged).not.toContain(TOKEN);
  });
});

describe('close', () => {
  it('is idempotent, and a closed sender refuses to send', async () => {
    const own = new WebhookSender();
    await own.send(target(), message());
    await Promise.all([own.close(), own.close()]);
    await own.close();
    expectCode(await rejection(own.send(target(), message())), 'WEBHOOK_NETWORK', true);
  });
});
