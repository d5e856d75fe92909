// The fleet token cache against a real Redis and the fake token endpoint: one token request per credential
// at a time across "processes" (separate caches on separate connections), renewal ahead of expiry, a TTL no
// longer than the token lives, one refresh for a refused token, failures stored and held back.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialConfig } from '../../../src/config/index.ts';
import { isPophookError } from '../../../src/errors.ts';
import { credentialKeys, TokenCache } from '../../../src/oauth/index.ts';
import { type FakeTokenEndpoint, startFakeTokenEndpoint } from '../../helpers/fake-token-endpoint.ts';
import { createTestCertificates, type TestCertificates } from '../../helpers/test-certs.ts';
import { uniquePrefix, useRedis } from '../ledger/redis-fixture.ts';

const fixture = useRedis();
let certs: TestCertificates;
let fake: FakeTokenEndpoint;
const caches: TokenCache[] = [];

beforeAll(async () => {
  certs = await createTestCertificates();
  fake = await startFakeTokenEndpoint({
    tls: certs,
    lifetimeSeconds: 4,
    clients: ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => ({
      kind: 'generic',
      clientId: `app-${id}`,
      clientSecret: `secret-${id}`,
    })),
  });
});

afterAll(async () => {
  for (const cache of caches) await cache.close();
  await fake?.stop();
  await certs?.cleanup();
});

function credential(id: string, extra: Partial<CredentialConfig> = {}): CredentialConfig {
  return {
    id,
    type: 'oauth2',
    tokenUrl: fake.genericTokenUrl,
    grant: 'client_credentials',
    clientAuth: 'post',
    clientId: `app-${id}`,
    clientSecret: { value: `secret-${id}` },
    caPem: certs.caPem,
    timeoutMs: 5_000,
    refreshBeforeMs: 1_000,
    failureBackoffMs: 600,
    ...extra,
  } as CredentialConfig;
}

/** Two "processes" sharing credential `id` under a fresh prefix. */
function fleetOf(id: string, extra: Partial<CredentialConfig> = {}) {
  const prefix = uniquePrefix();
  const creds = [credential(id, extra)];
  return { prefix, one: processCache(prefix, creds, 'p1'), two: processCache(prefix, creds, 'p2') };
}

/** A cache as one pophook process has it: its own Redis connection. */
function processCache(prefix: string, credentials: CredentialConfig[], owner: string): TokenCache {
  const cache = new TokenCache({
    redis: fixture.client(),
    prefix,
    owner,
    credentials: Object.fromEntries(credentials.map((c) => [c.id, c])),
  });
  caches.push(cache);
  return cache;
}

describe('token cache', () => {
  it('single flight: 40 concurrent requests from two processes make one token request', async () => {
    const { prefix, one, two } = fleetOf('a');
    const tokens = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? one : two).token('a', 'inbox@example.com')),
    );
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(fake.issuedCount('app-a')).toBe(1);
    // Stored no longer than the token lives, under the credential's hash tag.
    const keys = credentialKeys(prefix, 'a');
    expect(keys.token).toBe(`${prefix}:{oauth:a}:token`);
    const ttl = await fixture.redis.pttl(keys.token);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(4_000);
  });

  it('renews ahead of expiry: after the renewal point one new token, shared by both processes', async () => {
    const { one, two } = fleetOf('b');
    const first = await one.token('b', 'u');
    // 4 s life, renewed 1 s before expiry (a quarter of the life): at 3.2 s a new one is asked for.
    await sleep(3_200);
    // One of the two renews; the other may be served the old token, still valid, without waiting.
    await Promise.all([one.token('b', 'u'), two.token('b', 'u')]);
    const [x, y] = [await one.token('b', 'u'), await two.token('b', 'u')];
    expect(x.accessToken).not.toBe(first.accessToken);
    expect(y.accessToken).toBe(x.accessToken);
    expect(fake.issuedCount('app-b')).toBe(2);
  });

  it('a refused token gets one refresh, which every process then shares', async () => {
    const { one, two } = fleetOf('c');
    const first = await one.token('c', 'u');
    const [x, y] = await Promise.all([
      one.token('c', 'u', { rejected: first.accessToken }),
      two.token('c', 'u', { rejected: first.accessToken }),
    ]);
    expect(x.accessToken).not.toBe(first.accessToken);
    expect(y.accessToken).toBe(x.accessToken);
    expect(fake.issuedCount('app-c')).toBe(2);
  });

  it('a revoked client: coded permanent error, stored with the provider text, held back, then recovers', async () => {
    // Held back longer than the four requests can take on a loaded machine: a waiter that looked again after
    // the hold ended would ask the endpoint itself, rightly.
    const { one, two } = fleetOf('d', { failureBackoffMs: 3_000 });
    fake.revoke('app-d');
    const before = fake.requests.length;
    const errors = await Promise.all(
      [one, two, one, two].map((cache) =>
        cache.token('d', 'u').then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );
    for (const error of errors) {
      expect(isPophookError(error, 'OAUTH_INVALID_CLIENT') && !error.retryable).toBe(true);
    }
    // The fleet asked once; the others read the stored failure.
    expect(fake.requests.length - before).toBe(1);
    const status = await two.status('d');
    expect(status.state).toBe('credentials');
    expect(status.failures.app).toMatchObject({ code: 'OAUTH_INVALID_CLIENT', retryable: false });
    expect(status.failures.app?.providerText).toMatch(/revoked/);
    fake.restore('app-d', { clientSecret: 'secret-d' });
    await sleep(3_100);
    expect((await one.token('d', 'u')).accessToken).toMatch(/^fake-at-/);
    expect(await two.status('d')).toEqual({ credential: 'd', state: 'ok', failures: {} });
  });

  it('a process that takes the lock after another failed reads that failure instead of asking again', async () => {
    // The race a loaded machine showed: p1 reads (no token, no failure), p2 takes the lock, is refused,
    // stores the failure and lets go, and only then does p1's lock attempt reach Redis.
    const prefix = uniquePrefix();
    const creds = [credential('f', { failureBackoffMs: 3_000 })];
    fake.revoke('app-f');
    const late = fixture.client();
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const set = late.set.bind(late) as (...args: unknown[]) => Promise<unknown>;
    (late as unknown as { set: unknown }).set = async (...args: unknown[]) => {
      if (args.includes('NX')) await released;
      return set(...args);
    };
    const one = new TokenCache({ redis: late, prefix, owner: 'p1', credentials: { f: creds[0]! } });
    const two = processCache(prefix, creds, 'p2');
    caches.push(one);
    const before = fake.requests.length;
    const first = one.token('f', 'u').catch((e: unknown) => e);
    await expect(two.token('f', 'u')).rejects.toMatchObject({ code: 'OAUTH_INVALID_CLIENT' });
    release();
    expect(isPophookError(await first, 'OAUTH_INVALID_CLIENT')).toBe(true);
    expect(fake.requests.length - before).toBe(1);
  });

  it('an endpoint answering 503 is retryable and paused briefly, then used again', async () => {
    const prefix = uniquePrefix();
    const cache = processCache(prefix, [credential('e')], 'p1');
    fake.inject({ status: 503, error: 'temporarily_unavailable' }, 1, 'app-e');
    const error = await cache.token('e', 'u').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPophookError(error, 'OAUTH_ENDPOINT_UNAVAILABLE') && error.retryable).toBe(true);
    expect((await cache.status('e')).state).toBe('unavailable');
    await sleep(700);
    expect((await cache.token('e', 'u')).accessToken).toMatch(/^fake-at-/);
  });
});
