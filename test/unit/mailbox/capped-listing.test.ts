// Which known messages a capped listing (Gmail) would keep showing, and so are retrieved once more to be
// popped: only with a cap, never what this session deletes or retrieves anyway, never an oversized one.
import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../../src/ledger/index.ts';
import { isRecentMode, stuckInListing } from '../../../src/mailbox/capped-listing.ts';

const listed = ['new', 'queued', 'delivered', 'dead', 'huge', 'requeued'].map((uidl, i) => ({
  msg: i + 1,
  uidl,
  size: 10,
}));
const entries = new Map<string, LedgerEntry>([
  ['queued', { state: 'queued', since: 1 }],
  ['delivered', { state: 'delivered', since: 1 }],
  ['dead', { state: 'dead', since: 1, lastError: { code: 'WEBHOOK_HTTP_4XX' } }],
  ['huge', { state: 'dead', since: 1, lastError: { code: 'MESSAGE_TOO_LARGE' } }],
  ['requeued', { state: 'queued', since: 1 }],
]);
const requeue = [listed[5]!];
const uidls = (messages: { uidl: string }[]) => messages.map((m) => m.uidl);

describe('stuckInListing', () => {
  it('keep mode with a cap: every known message but the oversized and the ones retrieved anyway', () => {
    const stuck = stuckInListing(listed, entries, { delete: false, listingCap: 250 }, requeue);
    expect(uidls(stuck)).toEqual(['queued', 'delivered', 'dead']);
  });

  it('delete mode: the delivered ones get DELE instead', () => {
    const stuck = stuckInListing(listed, entries, { delete: true, listingCap: 250 }, requeue);
    expect(uidls(stuck)).toEqual(['queued', 'dead']);
  });

  it('no cap (every other server): nothing', () => {
    expect(stuckInListing(listed, entries, { delete: false }, [])).toEqual([]);
  });

  it("Gmail's recent: mode lists popped mail again: nothing is retrieved only to pop it", () => {
    expect(isRecentMode('recent:support@example.com')).toBe(true);
    expect(isRecentMode('support@example.com')).toBe(false);
    const mailbox = { delete: false, listingCap: 250, recentMode: true };
    expect(stuckInListing(listed, entries, mailbox, requeue)).toEqual([]);
  });
});
