import { describe, expect, it } from 'vitest';
import { listingLines, NO_CAPABILITIES, parseCapabilities } from '../../../src/pop3/index.ts';

describe('parseCapabilities', () => {
  it('parses a typical CAPA listing', () => {
    const body = Buffer.from(
      'TOP\r\nUSER\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nsasl plain SCRAM-SHA-256\r\n' +
        'LOGIN-DELAY 900\r\nEXPIRE 30 USER\r\nIMPLEMENTATION Dovecot ready\r\nSTLS\r\nUTF8 USER\r\n',
    );
    const caps = parseCapabilities(listingLines(body));
    expect(caps).toMatchObject({
      sasl: ['PLAIN', 'SCRAM-SHA-256'],
      pipelining: true,
      uidl: true,
      top: true,
      user: true,
      stls: true,
      respCodes: true,
      authRespCode: true,
      utf8: true,
      loginDelaySeconds: 900,
      expire: '30 USER',
      implementation: 'Dovecot ready',
    });
    expect(caps.names).toHaveLength(12);
    expect(caps.has('pipelining')).toBe(true);
    expect(caps.has('X-NOTHING')).toBe(false);
  });

  it('has nothing when the server has no CAPA or lists nothing', () => {
    expect(parseCapabilities([])).toMatchObject({ sasl: [], pipelining: false, stls: false, user: false });
    expect(NO_CAPABILITIES.names).toEqual([]);
    expect(NO_CAPABILITIES.loginDelaySeconds).toBeUndefined();
  });

  it('ignores blank lines and a non-numeric LOGIN-DELAY', () => {
    const caps = parseCapabilities(['', '  ', 'LOGIN-DELAY soon', 'TOP']);
    expect(caps.names).toEqual(['LOGIN-DELAY soon', 'TOP']);
    expect(caps.loginDelaySeconds).toBeUndefined();
    expect(caps.top).toBe(true);
  });
});
