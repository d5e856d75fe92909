// Decoding ledger entries and script replies: anything pophook did not write is LEDGER_CORRUPT.
import { describe, expect, it } from 'vitest';
import { isPophookError } from '../../../src/errors.ts';
import { mapScriptError, parseEntry, parsePrevious } from '../../../src/ledger/entry.ts';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return isPophookError(error) ? error.code : 'not-a-pophook-error';
  }
  return undefined;
};

describe('parseEntry', () => {
  it('decodes what the scripts write', () => {
    const entry = parseEntry('u', '{"state":"queued","since":1700000000000,"size":12,"webhookId":"msg_1"}');
    expect(entry).toEqual({ state: 'queued', since: 1700000000000, size: 12, webhookId: 'msg_1' });
  });

  it('refuses anything else with LEDGER_CORRUPT', () => {
    for (const raw of ['', 'nope', '5', 'null', '[]', '{"state":"gone","since":1}', '{"state":"queued"}']) {
      expect(codeOf(() => parseEntry('u', raw))).toBe('LEDGER_CORRUPT');
    }
  });
});

describe('parsePrevious', () => {
  it('accepts the states and absent, refuses the rest', () => {
    for (const state of ['absent', 'queued', 'delivered', 'dead']) expect(parsePrevious(state)).toBe(state);
    expect(codeOf(() => parsePrevious('OK'))).toBe('LEDGER_CORRUPT');
    expect(codeOf(() => parsePrevious(1))).toBe('LEDGER_CORRUPT');
  });
});

describe('mapScriptError', () => {
  it('turns a LEDGER_CORRUPT error reply into the coded error and leaves others alone', () => {
    const mapped = mapScriptError(new Error('LEDGER_CORRUPT entry is not one pophook wrote'), 'u');
    expect(isPophookError(mapped, 'LEDGER_CORRUPT')).toBe(true);
    const other = new Error('READONLY');
    expect(mapScriptError(other, 'u')).toBe(other);
  });
});
