import { describe, expect, it } from 'vitest';
import { apopDigest } from '../../../../src/pop3/sasl/index.ts';

describe('apopDigest', () => {
  it('matches the RFC 1939 §7 example', () => {
    expect(apopDigest('<1896.697170952@dbc.mtview.ca.us>', 'tanstaaf')).toBe(
      'c4c9334bac560ecc979e58001b3e22fb',
    );
  });

  it('hashes the password as UTF-8', () => {
    // Computed independently: printf '<1.2@h>\xc3\xa9' | md5sum
    expect(apopDigest('<1.2@h>', '\u00e9')).toBe('13d53540b065b253eb75e9ce4f5cda32');
  });
});
