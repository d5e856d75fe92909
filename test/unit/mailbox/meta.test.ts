// The failure streak in a mailbox's meta hash: failed polls in a row count up, an ok poll makes the
// streak history, and the next failure starts again at 1.
import { describe, expect, it } from 'vitest';
import { errorIsPast, MailboxMetaStore } from '../../../src/mailbox/meta.ts';
import type { RedisClient } from '../../../src/queue/connections.ts';

/** HGETALL and HSET over a Map: all the meta store uses. */
function fakeRedis(): RedisClient {
  const hashes = new Map<string, Record<string, string>>();
  return {
    hgetall: async (key: string) => ({ ...(hashes.get(key) ?? {}) }),
    hset: async (key: string, fields: Record<string, unknown>) => {
      const hash = hashes.get(key) ?? {};
      for (const [name, value] of Object.entries(fields)) hash[name] = String(value);
      hashes.set(key, hash);
      return 0;
    },
  } as unknown as RedisClient;
}

describe('MailboxMetaStore failures', () => {
  it('counts a streak, fades it after an ok poll, and starts a new one at 1', async () => {
    const meta = new MailboxMetaStore(fakeRedis(), 'p');
    await meta.recordFailure('inbox', { code: 'POP3_AUTH_FAILED', outcome: 'credentials' }, 1_000);
    const refused = { code: 'POP3_AUTH_FAILED', outcome: 'credentials', text: 'Authentication failed.' };
    expect(await meta.recordFailure('inbox', refused, 2_000)).toMatchObject({ failures: 2 });
    expect(await meta.read('inbox')).toMatchObject({
      lastOutcome: 'credentials',
      lastErrorText: 'Authentication failed.',
      failures: 2,
      lastErrorAt: 2_000,
    });
    expect(errorIsPast(await meta.read('inbox'))).toBe(false);

    await meta.write('inbox', { lastPollAt: 3_000, lastOutcome: 'ok', lastOkAt: 3_000 });
    const healed = await meta.read('inbox');
    expect(healed).toMatchObject({ lastError: 'POP3_AUTH_FAILED', failures: 2, lastErrorAt: 2_000 });
    expect(errorIsPast(healed)).toBe(true);

    await meta.recordFailure('inbox', { code: 'POP3_CONNECT_FAILED', outcome: 'error' }, 4_000);
    const again = await meta.read('inbox');
    // The server's text belonged to the earlier failure: cleared, not left beside the new one.
    expect(again.lastErrorText).toBeUndefined();
    // Another code is another streak: a cut connection does not lengthen a credentials backoff.
    await meta.recordFailure('inbox', { code: 'POP3_CONNECT_FAILED', outcome: 'error' }, 5_000);
    await meta.recordFailure('inbox', refused, 6_000);
    expect(await meta.read('inbox')).toMatchObject({ lastError: 'POP3_AUTH_FAILED', failures: 1 });
    expect(again).toMatchObject({ lastError: 'POP3_CONNECT_FAILED', failures: 1, lastErrorAt: 4_000 });
    expect(errorIsPast(again)).toBe(false);
  });
});
