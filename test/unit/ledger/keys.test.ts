// Key layout: one cluster slot per mailbox whatever the UIDL, and the raw-or-digest form of UIDLs in keys.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPophookError } from '../../../src/errors.ts';
import { mailboxKeys, uidlKeyPart } from '../../../src/ledger/keys.ts';
import { crc16, keySlot } from './key-slot.ts';

const allKeys = (prefix: string, mailbox: string, uidl: string): string[] => {
  const keys = mailboxKeys(prefix, mailbox);
  return [keys.ledger, keys.meta, keys.lock, keys.raw(uidl), keys.rawTemp(uidl, 'abcd')];
};

describe('key slot helper', () => {
  it('matches the CRC16 check value and the examples of the cluster spec', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x31c3);
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('foo{}{bar}')).toBe(crc16(Buffer.from('foo{}{bar}')) % 16384);
    expect(keySlot('foo{{bar}}zap')).toBe(crc16(Buffer.from('{bar')) % 16384);
  });
});

describe('mailboxKeys', () => {
  it('puts the mailbox hash tag right after the prefix', () => {
    const keys = mailboxKeys('pophook', 'support');
    expect(keys.ledger).toBe('pophook:{support}:ledger');
    expect(keys.meta).toBe('pophook:{support}:meta');
    expect(keys.lock).toBe('pophook:{support}:lock');
    expect(keys.raw('00000001513a5f4b')).toBe('pophook:{support}:raw:00000001513a5f4b');
  });

  it('keeps every key of a mailbox in one slot, whatever the UIDL', () => {
    const hostile = ['a{b}c', '}{', 'x: y z', '{support}', '*?[]\\', '', ' ', 'ü€', 'a'.repeat(500)];
    for (const uidl of hostile) {
      const slots = new Set(allKeys('pophook', 'support', uidl).map(keySlot));
      expect(slots).toEqual(new Set([keySlot('{support}')]));
    }
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/),
        fc.string({ maxLength: 80 }),
        (mailbox, uidl) => {
          const slots = new Set(allKeys('pp:x', mailbox, uidl).map(keySlot));
          expect(slots.size).toBe(1);
        },
      ),
    );
  });

  it('refuses a mailbox id or prefix that would break the hash tag', () => {
    for (const [prefix, mailbox] of [
      ['p', 'a}b'],
      ['p', ''],
      ['p', 'a b'],
      ['p{x}', 'ok'],
    ] as const) {
      let caught: unknown;
      try {
        mailboxKeys(prefix, mailbox);
      } catch (error) {
        caught = error;
      }
      expect(isPophookError(caught, 'CONFIG_INVALID')).toBe(true);
    }
  });
});

describe('uidlKeyPart', () => {
  it('uses a plainly safe UIDL as it is', () => {
    expect(uidlKeyPart('GmailId17f3c0a1b2')).toBe('GmailId17f3c0a1b2');
    expect(uidlKeyPart('1.2/3+4=5-6_7')).toBe('1.2/3+4=5-6_7');
  });

  it('digests UIDLs with braces, colons, spaces, globs, # or out-of-range bytes', () => {
    for (const uidl of ['a{b}c', 'a:b', 'a b', 'a*', 'a#b', '', 'é', 'x'.repeat(71), 'tab\t']) {
      expect(uidlKeyPart(uidl)).toMatch(/^#[0-9a-f]{64}$/);
    }
    expect(uidlKeyPart('a{b}c')).not.toBe(uidlKeyPart('a{b}d'));
  });

  it('never maps two different UIDLs to one key part', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 75 }), fc.string({ maxLength: 75 }), (a, b) => {
        fc.pre(a !== b);
        expect(uidlKeyPart(a)).not.toBe(uidlKeyPart(b));
      }),
    );
    // The one way a raw form could meet a digest form is a raw UIDL starting with '#', which is digested.
    const digest = uidlKeyPart('a b');
    expect(uidlKeyPart(digest)).not.toBe(digest);
  });
});
