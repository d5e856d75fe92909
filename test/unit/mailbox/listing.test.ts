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
