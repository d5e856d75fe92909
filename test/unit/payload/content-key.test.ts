import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inspectRaw } from '../../../src/payload/build-payload.ts';
import { contentKey, normalizeMessageId } from '../../../src/payload/content-key.ts';
import { buildPayload, DEFAULT_PARSE_LIMITS } from '../../../src/payload/index.ts';
import { meta } from '../../fixtures/mime/corpus.ts';

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

/** The key the payload gets, through the same header reading and body split payloadTail uses. */
function keyOf(raw: string): string {
  const bytes = Buffer.from(raw, 'latin1');
  const { scan, root } = inspectRaw(bytes, DEFAULT_PARSE_LIMITS);
  return contentKey(root.headers, bytes.subarray(scan.bodyStart));
}

const message = (head: string[], body = 'Hello,\r\nthe printer is on fire.\r\n') =>
  `${head.join('\r\n')}\r\n\r\n${body}`;

const AUTHOR = [
  'From: Alice <alice@example.com>',
  'To: support@example.net',
  'Subject: Printer on fire',
  'Date: Tue, 01 Jul 2025 10:52:37 +0200',
];

describe('normalizeMessageId', () => {
  it.each([
    ['<abc@Example.COM>', '<abc@example.com>'],
    ['  <abc@example.com>  ', '<abc@example.com>'],
    ['<abc@exa\r\n mple.com>', '<abc@example.com>'],
    ['abc@example.com', '<abc@example.com>'],
    ['<ABC@example.com>', '<ABC@example.com>'], // id-left keeps its case
    ['<"abc"@example.com>', '<abc@example.com>'],
    ['(comment) <abc@example.com> (more)', '<abc@example.com>'],
    ['<"a@b"@example.com>', '<a@b@example.com>'],
    ['<abc@[192.0.2.1]>', '<abc@[192.0.2.1]>'],
  ])('%j → %j', (value, expected) => {
    expect(normalizeMessageId(value)).toBe(expected);
  });

  it.each([
    [undefined],
    [''],
    ['<>'],
    ['<abc>'],
    ['<@example.com>'],
    ['<abc@>'],
    ['no id here'],
    [`<${'a'.repeat(1000)}@example.com>`],
  ])('%j is unusable', (value) => {
    expect(normalizeMessageId(value)).toBeNull();
  });
});

describe('contentKey vectors', () => {
  it('hashes the documented array for a Message-ID', () => {
    const raw = message([...AUTHOR, 'Message-ID: <Invoice-7@Example.COM>']);
    expect(keyOf(raw)).toBe(sha256('["message-id","<Invoice-7@example.com>"]'));
  });

  it('hashes author fields and the body without a usable Message-ID', () => {
    const body = 'Hello,\r\nthe printer is on fire.\r\n';
    const raw = message(
      ['From: Alice <alice@example.com>', 'To:  a@x,\r\n b@y', 'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?='],
      body,
    );
    const bodySha = sha256('Hello,\r\nthe printer is on fire.');
    expect(keyOf(raw)).toBe(
      sha256(
        Buffer.from(
          JSON.stringify(['headers', 'Alice <alice@example.com>', 'a@x, b@y', '', '', 'Grüße', bodySha]),
        ),
      ),
    );
  });

  it('tells different bodies apart without a Message-ID, and ignores a trailing line break', () => {
    const a = keyOf(message(AUTHOR, 'one\r\n'));
    expect(keyOf(message(AUTHOR, 'two\r\n'))).not.toBe(a);
    expect(keyOf(message(AUTHOR, 'one\r\n\r\n'))).toBe(a);
    expect(keyOf(message(AUTHOR, 'one'))).toBe(a);
  });

  it('is the payload field, the same for the same bytes', async () => {
    const raw = Buffer.from(message([...AUTHOR, 'Message-ID: <same@example.com>']));
    const first = await buildPayload(raw, meta(), DEFAULT_PARSE_LIMITS);
    const again = await buildPayload(
      raw,
      { ...meta('msg_other'), mailbox: 'billing', uidl: 'other' },
      DEFAULT_PARSE_LIMITS,
    );
    expect(first.contentKey).toBe(sha256('["message-id","<same@example.com>"]'));
    expect(again.contentKey).toBe(first.contentKey);
  });
});

// What travel adds to a copy: the trace fields of the servers and mailboxes it passed through.
const traceField = fc.oneof(
  fc
    .tuple(fc.domain(), fc.ipV4())
    .map(
      ([host, ip]) =>
        `Received: from ${host} ([${ip}])\r\n\tby mx.example.net; Tue, 01 Jul 2025 10:52:37 +0200`,
    ),
  fc.emailAddress().map((a) => `Delivered-To: ${a}`),
  fc.emailAddress().map((a) => `X-Original-To: ${a}`),
  fc.emailAddress().map((a) => `Return-Path: <${a}>`),
  fc.constantFrom(
    'X-Spam-Score: 0.1',
    'X-Spam-Status: No',
    'Authentication-Results: mx.example.net; spf=pass',
  ),
);

/** The author's fields with trace fields inserted anywhere and the trace fields themselves shuffled. */
const copyOf = (author: readonly string[]) =>
  fc
    .tuple(fc.array(traceField, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 8 }))
    .map(([trace, positions]) => {
      const head = [...author];
      for (const [i, field] of trace.entries()) {
        head.splice((positions[i] ?? 0) % (head.length + 1), 0, field);
      }
      return head;
    });

describe('contentKey property: trace fields added or reordered do not change it', () => {
  const bodies = fc.string({ maxLength: 200 }).map((s) => `${s.replace(/[\r\n]/g, ' ')}\r\nend\r\n`);

  it('with a Message-ID', () => {
    const author = [...AUTHOR, 'Message-ID: <ticket-9@example.com>'];
    fc.assert(
      fc.property(copyOf(author), copyOf(author), bodies, (a, b, body) => {
        expect(keyOf(message(a, body))).toBe(keyOf(message(b, 'another body\r\n')));
      }),
      { numRuns: 200 },
    );
  });

  it('without one', () => {
    fc.assert(
      fc.property(copyOf(AUTHOR), copyOf(AUTHOR), bodies, (a, b, body) => {
        expect(keyOf(message(a, body))).toBe(keyOf(message(b, body)));
      }),
      { numRuns: 200 },
    );
  });
});
