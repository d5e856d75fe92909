// Where an attachment's bytes go, at the edges of both thresholds, and how much of a streamed attachment
// must be seen before that is known.
import { describe, expect, it } from 'vitest';
import type { AttachmentsConfig } from '../../../src/config/index.ts';
import { decisionBytes, placementOf } from '../../../src/payload/attachment-policy.ts';

const REFERENCE: AttachmentsConfig = {
  mode: 'reference',
  referenceFromBytes: 1000,
  skip: { types: ['image/*', 'application/pgp-signature'], belowBytes: 100 },
};

describe('placementOf', () => {
  it('references from the threshold on, skips listed types under their size, keeps the rest inline', () => {
    expect(placementOf(REFERENCE, 'application/pdf', 999)).toBe('inline');
    expect(placementOf(REFERENCE, 'application/pdf', 1000)).toBe('reference');
    expect(placementOf(REFERENCE, 'image/png', 99)).toBe('skip');
    expect(placementOf(REFERENCE, 'IMAGE/GIF', 0)).toBe('skip');
    expect(placementOf(REFERENCE, 'image/png', 100)).toBe('inline');
    expect(placementOf(REFERENCE, 'image/png', 5000)).toBe('reference');
    expect(placementOf(REFERENCE, 'application/pgp-signature', 50)).toBe('skip');
    expect(placementOf(REFERENCE, 'application/pgp-keys', 50)).toBe('inline');
    expect(placementOf(REFERENCE, 'imagex/png', 50)).toBe('inline');
  });

  it('never references in inline mode, whatever the size', () => {
    const inline: AttachmentsConfig = { ...REFERENCE, mode: 'inline' };
    expect(placementOf(inline, 'application/pdf', 10 ** 9)).toBe('inline');
    expect(placementOf(inline, 'image/png', 1)).toBe('skip');
  });
});

describe('decisionBytes', () => {
  it('is the larger threshold that applies, and 0 when the first byte decides', () => {
    expect(decisionBytes(REFERENCE, 'application/pdf')).toBe(1000);
    expect(decisionBytes({ ...REFERENCE, referenceFromBytes: 10 }, 'image/png')).toBe(100);
    expect(decisionBytes({ ...REFERENCE, mode: 'inline' }, 'application/pdf')).toBe(0);
    expect(decisionBytes({ ...REFERENCE, mode: 'inline' }, 'image/jpeg')).toBe(100);
  });

  it('agrees with placementOf: past it, more bytes never change the placement', () => {
    for (const type of ['application/pdf', 'image/png']) {
      for (const policy of [REFERENCE, { ...REFERENCE, mode: 'inline' as const }]) {
        const horizon = decisionBytes(policy, type);
        expect(placementOf(policy, type, horizon)).toBe(placementOf(policy, type, horizon * 10 + 1));
      }
    }
  });
});
