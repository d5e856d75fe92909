// Skipped entries (a start point held the message back): recorded only where nothing is, never deleted
// (only `delivered` is ever sent DELE), pruned once the server stops listing them; the onboarding marker.
import { describe, expect, it } from 'vitest';
import { mailboxKeys } from '../../../src/ledger/keys.ts';
import { Ledger } from '../../../src/ledger/ledger.ts';
import { uniquePrefix, useRedis } from './redis-fixture.ts';

const fx = useRedis();
const MB = 'support';
// Exchange Online's UIDLs are opaque base64-like strings with + and /.
const M365_UIDL = 'AAQkAGI2TG93AAA+/xY9bQ==';

function setup() {
  const prefix = uniquePrefix();
  return { prefix, ledger: new Ledger(fx.redis, prefix, { now: () => 1_700_000_000_000 }) };
}

describe('skipped entries', () => {
  it('absent → skipped only; an existing entry of any state stays as it is', async () => {
    const { ledger } = setup();
    await ledger.markQueued(MB, 'q', { size: 1, webhookId: 'msg_q' });
    await ledger.markDelivered(MB, 'd', { status: 200 });
    expect(await ledger.markSkipped(MB, ['q', 'd', 'new-1', M365_UIDL, 'new-1'])).toBe(2);
    const entries = await ledger.entries(MB);
    expect(entries.get('q')?.state).toBe('queued');
    expect(entries.get('d')?.state).toBe('delivered');
    expect(entries.get('new-1')).toEqual({ state: 'skipped', since: 1_700_000_000_000 });
    expect(entries.get(M365_UIDL)?.state).toBe('skipped');
    expect(await ledger.counts(MB)).toEqual({ queued: 1, delivered: 1, dead: 0, skipped: 2 });
  });

  it('records thousands in batches', async () => {
    const { ledger } = setup();
    const uidls = Array.from({ length: 1234 }, (_, i) => `u${i}`);
    expect(await ledger.markSkipped(MB, uidls)).toBe(1234);
    expect((await ledger.counts(MB)).skipped).toBe(1234);
  });

  it('prune drops skipped entries the server no longer lists, keeps the listed ones', async () => {
    const { ledger } = setup();
    await ledger.markSkipped(MB, ['gone', 'here']);
    expect(await ledger.prune(MB, await ledger.entries(MB), new Set(['here']))).toEqual(['gone']);
    expect([...(await ledger.entries(MB)).keys()]).toEqual(['here']);
  });

  it('the onboarding marker round-trips under the mailbox hash tag', async () => {
    const { ledger, prefix } = setup();
    expect(await ledger.onboarding(MB)).toBeUndefined();
    await ledger.setOnboarding(MB, { startAt: 'now', startedAt: 5 });
    await ledger.setOnboarding(MB, { startAt: 'now', startedAt: 5, doneAt: 9, skipped: 3, kept: 0 });
    expect(await ledger.onboarding(MB)).toEqual({
      startAt: 'now',
      startedAt: 5,
      doneAt: 9,
      skipped: 3,
      kept: 0,
    });
    expect(mailboxKeys(prefix, MB).onboarding).toBe(`${prefix}:{${MB}}:onboarding`);
  });
});
