// Signing against the Standard Webhooks test vector and the official verifier (standardwebhooks).
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isPophookError } from '../../../src/errors.ts';
import { decodeSecret, signatureHeader, webhookHeaders } from '../../../src/webhook/sign.ts';

// The vector of the reference libraries (standard-webhooks/libraries/javascript, "sign function works").
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: Buffer.from('{"test": 2432232314}'),
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const OTHER_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

afterEach(() => {
  vi.useRealTimers();
});

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectInvalid(fn: () => unknown): void {
  expect(isPophookError(caught(fn), 'WEBHOOK_INVALID_REQUEST')).toBe(true);
}

describe('signatureHeader', () => {
  it('reproduces the Standard Webhooks test vector', () => {
    expect(signatureHeader(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
  });

  it('accepts the secret without its whsec_ prefix, as the reference libraries do', () => {
    const bare = VECTOR.secret.slice('whsec_'.length);
    expect(signatureHeader(bare, VECTOR.id, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
  });

  it('produces headers the official verifier accepts', () => {
    vi.useFakeTimers({ now: VECTOR.timestamp * 1000 + 30_000 });
    const headers = webhookHeaders(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body);
    expect(headers).toEqual({
      'webhook-id': VECTOR.id,
      'webhook-timestamp': '1614265330',
      'webhook-signature': VECTOR.signature,
      'content-type': 'application/json',
    });
    expect(new Webhook(VECTOR.secret).verify(VECTOR.body, { ...headers })).toEqual({ test: 2432232314 });
  });

  it('is verified by standardwebhooks for any UTF-8 JSON body and id', () => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
    const verifier = new Webhook(OTHER_SECRET);
    fc.assert(
      fc.property(fc.jsonValue(), fc.stringMatching(/^msg_[A-Za-z0-9_-]{1,40}$/), (value, id) => {
        const body = Buffer.from(JSON.stringify(value));
        const headers = webhookHeaders(OTHER_SECRET, id, 1_700_000_000, body);
        expect(() => verifier.verify(body, { ...headers }, { jsonParse: false })).not.toThrow();
      }),
      { numRuns: 100 },
    );
  });

  it('gives the same signature for a body in chunks, split at every offset', () => {
    const whole = signatureHeader(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body);
    for (let at = 0; at <= VECTOR.body.length; at++) {
      const chunks = [VECTOR.body.subarray(0, at), VECTOR.body.subarray(at)];
      expect(signatureHeader(VECTOR.secret, VECTOR.id, VECTOR.timestamp, chunks)).toBe(whole);
    }
    const bytes = [...VECTOR.body].map((byte) => Buffer.of(byte));
    expect(signatureHeader(VECTOR.secret, VECTOR.id, VECTOR.timestamp, bytes)).toBe(whole);
  });

  it('signs a one-pass generator once per key, one space-separated entry per key (key rotation)', () => {
    function* chunks() {
      yield VECTOR.body.subarray(0, 5);
      yield VECTOR.body.subarray(5);
    }
    const header = signatureHeader([VECTOR.secret, OTHER_SECRET], VECTOR.id, VECTOR.timestamp, chunks());
    const [first, second, ...rest] = header.split(' ');
    expect(first).toBe(VECTOR.signature);
    expect(second).toBe(signatureHeader(OTHER_SECRET, VECTOR.id, VECTOR.timestamp, VECTOR.body));
    expect(rest).toEqual([]);
  });

  it('changes with the id, the timestamp and every byte of the body', () => {
    const base = signatureHeader(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body);
    expect(signatureHeader(VECTOR.secret, `${VECTOR.id}x`, VECTOR.timestamp, VECTOR.body)).not.toBe(base);
    expect(signatureHeader(VECTOR.secret, VECTOR.id, VECTOR.timestamp + 1, VECTOR.body)).not.toBe(base);
    const altered = Buffer.from(VECTOR.body);
    const at = altered.length - 2;
    altered.writeUInt8(altered.readUInt8(at) ^ 1, at);
    expect(signatureHeader(VECTOR.secret, VECTOR.id, VECTOR.timestamp, altered)).not.toBe(base);
  });
});

describe('refusals', () => {
  it.each([
    ['empty', ''],
    ['prefix only', 'whsec_'],
    ['not base64', 'whsec_not base64!'],
    ['padding only', 'whsec_=='],
  ])('refuses a secret that is %s', (_name, secret) => {
    expectInvalid(() => decodeSecret(secret));
  });

  it('secrets-not-logged: a refused secret is not echoed in the error', () => {
    const secret = 'whsec_sup3r-secret!value';
    const error = caught(() => signatureHeader(secret, VECTOR.id, VECTOR.timestamp, VECTOR.body)) as Error;
    expect(isPophookError(error, 'WEBHOOK_INVALID_REQUEST')).toBe(true);
    expect(`${error.message} ${error.stack} ${JSON.stringify(error)}`).not.toContain('sup3r');
  });

  it('refuses an empty key list', () => {
    expectInvalid(() => signatureHeader([], VECTOR.id, VECTOR.timestamp, VECTOR.body));
  });

  it.each([
    ['a dot (it delimits the signed content)', 'msg.1'],
    ['a space', 'msg 1'],
    ['a line break', 'msg\r\n1'],
    ['nothing', ''],
  ])('refuses a webhook-id with %s', (_name, id) => {
    expectInvalid(() => signatureHeader(VECTOR.secret, id, VECTOR.timestamp, VECTOR.body));
  });

  it.each([1.5, -1, Number.NaN])('refuses the timestamp %s (whole seconds only)', (timestamp) => {
    expectInvalid(() => signatureHeader(VECTOR.secret, VECTOR.id, timestamp, VECTOR.body));
  });
});
