// readListing: when a server's -ERR to UIDL may mean "no UIDL here" (fallback identities) and when it is a
// failure of the moment that must fail the session (found by the fault suite, test/faults).
import { describe, expect, it } from 'vitest';
import { readListing } from '../../../src/mailbox/listing.ts';
import { type Pop3Client, Pop3Error } from '../../../src/pop3/index.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';

function stubClient(announcesUidl: boolean): Pop3Client {
  return {
    capabilities: { uidl: announcesUidl, names: announcesUidl ? ['UIDL', 'TOP'] : [] },
    list: async () => [{ msg: 1, size: 10 }],
    uidl: async () => {
      throw new Pop3Error('POP3_ERR', 'the server answered -ERR', { command: 'UIDL' });
    },
    top: async () => [Buffer.from('Subject: x\r\n\r\n')],
  } as unknown as Pop3Client;
}

describe('readListing and -ERR to UIDL', () => {
  it('uidl-err-after-capa: fails the session when CAPA announced UIDL (no switch to digest identities)', async () => {
    await expect(readListing(stubClient(true), silentLogger)).rejects.toMatchObject({ code: 'POP3_ERR' });
  });

  it('falls back to header digests when the server has no CAPA and refuses UIDL', async () => {
    const listing = await readListing(stubClient(false), silentLogger);
    expect(listing.fallbackIdentity).toBe(true);
    expect(listing.messages[0]?.uidl).toMatch(/^x-digest-[0-9a-f]{40}$/);
  });
});

describe('readListing pairs LIST and UIDL by message number', () => {
  const client = (sizes: number[], uids: Array<[number, string]>) =>
    ({
      capabilities: { uidl: true, names: ['UIDL'] },
      list: async () => sizes.map((msg) => ({ msg, size: msg * 100 })),
      uidl: async () => uids.map(([msg, uid]) => ({ msg, uid })),
    }) as unknown as Pop3Client;

  it('in the same order (every server seen)', async () => {
    const listing = await readListing(
      client(
        [1, 2, 3],
        [
          [1, 'a'],
          [2, 'b'],
          [3, 'c'],
        ],
      ),
      silentLogger,
    );
    expect(listing.messages).toEqual([
      { msg: 1, uidl: 'a', size: 100 },
      { msg: 2, uidl: 'b', size: 200 },
      { msg: 3, uidl: 'c', size: 300 },
    ]);
  });

  it('in another order, or with a message UIDL leaves out (left alone this session)', async () => {
    const shuffled = await readListing(
      client(
        [1, 2, 3],
        [
          [3, 'c'],
          [1, 'a'],
          [2, 'b'],
        ],
      ),
      silentLogger,
    );
    expect(shuffled.messages.map((m) => [m.msg, m.uidl])).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ]);
    // Same length, one number differs: paired by number, not by position.
    const other = await readListing(
      client(
        [1, 2, 3],
        [
          [1, 'a'],
          [2, 'b'],
          [4, 'd'],
        ],
      ),
      silentLogger,
    );
    expect(other.messages.map((m) => [m.msg, m.uidl])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
  });
});
