import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseAuthenticationResults,
  readAuthentication,
} from '../../../src/payload/authentication-results.ts';
import { splitFields } from '../../../src/payload/header-fields.ts';
import { buildPayload, DEFAULT_PARSE_LIMITS } from '../../../src/payload/index.ts';
import { meta } from '../../fixtures/mime/corpus.ts';

const read = (block: string, trusted: string[]) => readAuthentication(splitFields(block), trusted);

// Shaped like the fields these providers write (hosts, domains and signatures invented).
const GMAIL = `Authentication-Results: mx.google.com;
       dkim=pass header.i=@shop.example header.s=s2024 header.b=Ab12Cd34;
       dkim=pass header.i=@esp.example header.s=k1 header.b="x+y/z";
       arc=pass (i=1 spf=pass spfdomain=shop.example dkim=pass dkdomain=shop.example dmarc=pass fromdomain=shop.example);
       spf=pass (google.com: domain of bounce@mail.shop.example designates 192.0.2.7 as permitted sender) smtp.mailfrom=bounce@mail.shop.example;
       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=shop.example`;

const MICROSOFT = `Authentication-Results: spf=softfail (sender IP is 198.51.100.9)
 smtp.mailfrom=contoso.example; dkim=none (message not signed)
 header.d=none;dmarc=fail action=quarantine header.from=contoso.example;compauth=fail
 reason=000`;

// A Postfix MX with OpenDKIM and OpenDMARC: one field per milter, all with the MX's authserv-id, and a
// forged field from the sender's side below them.
const MILTERS = `Authentication-Results: mx1.example.net; dmarc=pass (p=none dis=none) header.from=partner.example
Authentication-Results: mx1.example.net;
\tdkim=pass (2048-bit key; unprotected) header.d=partner.example header.i=@partner.example header.a=rsa-sha256 header.s=mail header.b=QWERTY12
Authentication-Results: mx1.example.net 1; spf=pass smtp.mailfrom=partner.example
Authentication-Results: evil.example; dkim=pass header.d=bank.example; dmarc=pass header.from=bank.example`;

describe('readAuthentication (RFC 8601, trusted authserv-ids only)', () => {
  it('reads Gmail’s field: two DKIM signatures, ARC, SPF domain from smtp.mailfrom, DMARC', () => {
    expect(read(GMAIL, ['mx.google.com'])).toEqual({
      authservId: 'mx.google.com',
      spf: { result: 'pass', domain: 'mail.shop.example' },
      dkim: [
        { result: 'pass', domain: 'shop.example', selector: 's2024' },
        { result: 'pass', domain: 'esp.example', selector: 'k1' },
      ],
      dmarc: { result: 'pass', domain: 'shop.example' },
      arc: { result: 'pass' },
    });
  });

  it('ignores Microsoft 365’s field, which has no authserv-id to trust', () => {
    // Exchange Online writes no authserv-id at all; RFC 8601 requires one, so nothing can be trusted.
    expect(read(MICROSOFT, ['spf=softfail', 'outlook.com'])).toBeNull();
  });

  it('merges the fields of one MX’s milters and ignores a forged field of another authserv-id', () => {
    expect(read(MILTERS, ['MX1.example.net'])).toEqual({
      authservId: 'mx1.example.net',
      spf: { result: 'pass', domain: 'partner.example' },
      dkim: [{ result: 'pass', domain: 'partner.example', selector: 'mail' }],
      dmarc: { result: 'pass', domain: 'partner.example' },
      arc: null,
    });
  });

  it('reports nothing when the mailbox trusts no authserv-id (the default) or none that is present', () => {
    expect(read(MILTERS, [])).toBeNull();
    expect(read(MILTERS, ['mx.google.com'])).toBeNull();
    expect(read('Subject: no results', ['mx1.example.net'])).toBeNull();
  });

  it('trusts the forged id only when told to: the list is the operator’s decision', () => {
    expect(read(MILTERS, ['evil.example'])?.dkim).toEqual([
      { result: 'pass', domain: 'bank.example', selector: null },
    ]);
  });

  it('takes a field with no results ("none") as trusted but empty, and the topmost SPF result', () => {
    const block = `Authentication-Results: mx.example.net; none
Authentication-Results: mx.example.net; spf=fail smtp.helo=relay.example
Authentication-Results: mx.example.net; spf=pass smtp.mailfrom=a@b.example`;
    expect(read(block, ['mx.example.net'])).toEqual({
      authservId: 'mx.example.net',
      spf: { result: 'fail', domain: 'relay.example' },
      dkim: [],
      dmarc: null,
      arc: null,
    });
  });
});

describe('parseAuthenticationResults', () => {
  it('handles a version, nested comments, quoted values, method versions and CFWS around = and .', () => {
    const parsed = parseAuthenticationResults(
      '"mx.example.net" 1 (a (nested) comment); DKIM/1 = Pass (ok; really) header . d = "ex;ample.com" header.s=sel; auth=pass smtp.auth=user@example.net',
    );
    expect(parsed?.authservId).toBe('mx.example.net');
    expect(parsed?.results.map((r) => [r.method, r.result, Object.fromEntries(r.props)])).toEqual([
      ['dkim', 'pass', { 'header.d': 'ex;ample.com', 'header.s': 'sel' }],
      ['auth', 'pass', { 'smtp.auth': 'user@example.net' }],
    ]);
  });

  it('never throws, on any input', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        parseAuthenticationResults(value);
      }),
    );
  });

  it('stays fast on hostile input', () => {
    const started = performance.now();
    parseAuthenticationResults(`x; ${'a.b=c '.repeat(50_000)}${'('.repeat(50_000)}`);
    parseAuthenticationResults(`x; dkim=pass ${'a . '.repeat(50_000)}`);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('payload.authentication', () => {
  const raw = Buffer.from(`${MILTERS.replace(/\n/g, '\r\n')}\r\nSubject: hi\r\n\r\nbody\r\n`);

  it('is null by default and filled for a mailbox that trusts its MX', async () => {
    expect((await buildPayload(raw, meta(), DEFAULT_PARSE_LIMITS)).authentication).toBeNull();
    const payload = await buildPayload(raw, meta(), DEFAULT_PARSE_LIMITS, {
      trustedAuthservIds: ['mx1.example.net'],
    });
    expect(payload.authentication?.dmarc).toEqual({ result: 'pass', domain: 'partner.example' });
  });
});
