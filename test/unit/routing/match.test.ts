// Route decisions over a table of messages: each condition alone, combinations, first vs all, drop,
// the default route, no route, plus tags, and what headers alone cannot tell.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { Routing } from '../../../src/config/index.ts';
import { type RouteFacts, routeFacts } from '../../../src/payload/route-facts.ts';
import { addressIs, decideRoute, MATCH_CHARS } from '../../../src/routing/match.ts';
import { configText, issuesOf, parse, SECRET } from '../config/helpers.ts';

const h = (name: string, value: string) => ({ name, value });

function facts(
  headers: Array<{ name: string; value: string }>,
  body: RouteFacts['body'] = { attachmentTypes: [], bounce: false },
): RouteFacts {
  const subject = headers.find((x) => x.name.toLowerCase() === 'subject')?.value ?? null;
  return routeFacts(headers, subject, body);
}

/** Routes as the config loader builds them (so the table also exercises the schema). */
async function routing(routes: unknown[], routeMode: 'first' | 'all' = 'first'): Promise<Routing> {
  const text = configText((doc) => {
    for (const id of ['a', 'b', 'c'])
      doc.webhooks[id] = { url: `https://${id}.example.com/`, secret: SECRET };
    delete doc.mailboxes.support.webhook;
    doc.mailboxes.support.routes = routes;
    doc.mailboxes.support.routeMode = routeMode;
  });
  return (await parse(text)).mailboxes.support!.routing;
}

const billing = facts([
  h('Delivered-To', 'billing+acme@example.com'),
  h('From', 'Ann <ann@customer.org>'),
  h('To', 'billing@example.com, "X" <x@example.com>'),
  h('Subject', 'Invoice 42'),
]);
const withPdf = facts([h('From', 'a@b.org'), h('Subject', 'scan')], {
  attachmentTypes: ['application/pdf', 'image/png'],
  bounce: false,
});
const newsletter = facts([h('From', 'news@list.org'), h('List-Id', '<news.list.org>'), h('Subject', 'hi')]);
const bounce = facts([h('From', 'MAILER-DAEMON@mx.example.com'), h('Subject', 'Undelivered')], {
  attachmentTypes: [],
  bounce: true,
});
const ooo = facts([h('From', 'b@c.org'), h('Auto-Submitted', 'auto-replied'), h('Subject', 'Out of office')]);

const cases: Array<[string, unknown[], RouteFacts, ReturnType<typeof decideRoute>]> = [
  [
    'recipient with plus tag',
    [{ match: { recipient: 'billing@example.com' }, deliver: ['a'] }],
    billing,
    { kind: 'deliver', routes: ['route-1'], targets: ['a'] },
  ],
  [
    'recipient naming another tag',
    [{ match: { recipient: 'billing+other@example.com' }, deliver: ['a'] }],
    billing,
    { kind: 'unmatched' },
  ],
  [
    'recipient domain',
    [{ match: { recipient: '@example.com' }, deliver: ['a'] }],
    billing,
    { kind: 'deliver', routes: ['route-1'], targets: ['a'] },
  ],
  [
    'to/cc',
    [{ match: { to: ['x@example.com'] }, deliver: ['b'] }],
    billing,
    { kind: 'deliver', routes: ['route-1'], targets: ['b'] },
  ],
  [
    'from domain',
    [{ match: { from: '@customer.org' }, deliver: ['a'] }],
    billing,
    { kind: 'deliver', routes: ['route-1'], targets: ['a'] },
  ],
  [
    'from mismatch falls to the default',
    [{ match: { from: '@other.org' }, deliver: ['a'] }, { deliver: ['c'] }],
    billing,
    { kind: 'deliver', routes: ['route-2'], targets: ['c'] },
  ],
  [
    'subject regex, case-insensitive',
    [{ name: 'inv', match: { subject: '^invoice \\d+$' }, deliver: ['a'] }],
    billing,
    { kind: 'deliver', routes: ['inv'], targets: ['a'] },
  ],
  [
    'header regex',
    [{ match: { headers: { 'list-id': 'news\\.list' } }, drop: true }],
    newsletter,
    { kind: 'drop', route: 'route-1' },
  ],
  [
    'all conditions must hold',
    [{ match: { from: '@customer.org', subject: 'receipt' }, deliver: ['a'] }],
    billing,
    { kind: 'unmatched' },
  ],
  [
    'hasAttachments',
    [{ match: { hasAttachments: true }, deliver: ['a'] }],
    withPdf,
    { kind: 'deliver', routes: ['route-1'], targets: ['a'] },
  ],
  [
    'hasAttachments false',
    [{ match: { hasAttachments: false }, deliver: ['a'] }],
    withPdf,
    { kind: 'unmatched' },
  ],
  [
    'attachment type wildcard',
    [{ match: { attachmentType: 'image/*' }, deliver: ['b'] }],
    withPdf,
    { kind: 'deliver', routes: ['route-1'], targets: ['b'] },
  ],
  [
    'bulk flag',
    [{ match: { bulk: true }, drop: true }, { deliver: ['a'] }],
    newsletter,
    { kind: 'drop', route: 'route-1' },
  ],
  [
    'autoReply flag',
    [{ match: { autoReply: true }, drop: true }, { deliver: ['a'] }],
    ooo,
    { kind: 'drop', route: 'route-1' },
  ],
  [
    'bounce flag',
    [{ match: { bounce: true }, deliver: ['c'] }, { deliver: ['a'] }],
    bounce,
    { kind: 'deliver', routes: ['route-1'], targets: ['c'] },
  ],
  [
    'first mode stops at the first match',
    [{ match: { from: '@customer.org' }, deliver: ['a'] }, { deliver: ['b'] }],
    billing,
    { kind: 'deliver', routes: ['route-1'], targets: ['a'] },
  ],
];

describe('decideRoute', () => {
  it.each(cases)('%s', async (_name, routes, message, expected) => {
    expect(decideRoute(await routing(routes), message)).toEqual(expected);
  });

  it('all mode merges every matching route, each webhook once, in route order', async () => {
    const r = await routing(
      [
        { match: { recipient: 'billing@example.com' }, deliver: ['b', 'a'] },
        { match: { subject: 'invoice' }, deliver: ['a', 'c'] },
        { match: { bulk: true }, drop: true },
        { deliver: ['c'] },
      ],
      'all',
    );
    expect(decideRoute(r, billing)).toEqual({
      kind: 'deliver',
      routes: ['route-1', 'route-2', 'route-4'],
      targets: ['b', 'a', 'c'],
    });
  });

  it('all mode drops only when every matching route drops', async () => {
    const r = await routing(
      [
        { match: { bulk: true }, drop: true },
        { match: { from: '@list.org' }, drop: true },
      ],
      'all',
    );
    expect(decideRoute(r, newsletter)).toEqual({ kind: 'drop', route: 'route-1' });
    const mixed = await routing([{ match: { bulk: true }, drop: true }, { deliver: ['a'] }], 'all');
    expect(decideRoute(mixed, newsletter)).toEqual({ kind: 'deliver', routes: ['route-2'], targets: ['a'] });
  });

  it('the webhook shorthand is one default route', async () => {
    const config = await parse(configText());
    expect(decideRoute(config.mailboxes.support!.routing, billing)).toEqual({
      kind: 'deliver',
      routes: ['default'],
      targets: ['tickets'],
    });
  });

  it('from headers alone, a condition on the body is named instead of guessed', async () => {
    const headersOnly = routeFacts([h('Subject', 'scan')], 'scan', null);
    const r = await routing([
      { match: { subject: 'invoice' }, deliver: ['a'] },
      { name: 'pdf', match: { hasAttachments: true }, deliver: ['b'] },
      { deliver: ['c'] },
    ]);
    expect(decideRoute(r, headersOnly)).toEqual({ kind: 'needs-body', route: 'pdf' });
    // A header condition that fails first needs no body.
    const r2 = await routing([
      { match: { subject: 'invoice', hasAttachments: true }, deliver: ['a'] },
      { deliver: ['c'] },
    ]);
    expect(decideRoute(r2, headersOnly)).toEqual({ kind: 'deliver', routes: ['route-2'], targets: ['c'] });
  });

  it('a regex sees only the first MATCH_CHARS characters of a value', async () => {
    const long = facts([h('Subject', `${'x'.repeat(MATCH_CHARS)}needle`)]);
    expect(decideRoute(await routing([{ match: { subject: 'needle' }, deliver: ['a'] }]), long)).toEqual({
      kind: 'unmatched',
    });
  });
});

describe('addressIs', () => {
  it.each([
    ['a@x.org', 'a@x.org', true],
    ['a+t@x.org', 'a@x.org', true],
    ['a+t@x.org', 'a+t@x.org', true],
    ['a+u@x.org', 'a+t@x.org', false],
    ['a@x.org', 'a+t@x.org', false],
    ['b@x.org', '@x.org', true],
    ['b@sub.x.org', '@x.org', false],
    ['ab@x.org', 'a@x.org', false],
  ])('%s against %s: %s', (address, pattern, expected) => {
    expect(addressIs(address, pattern)).toBe(expected);
  });
});

describe('route config', () => {
  const problems = async (routes: unknown[]) =>
    (await issuesOf(routing(routes))).map((i) => `${i.path}: ${i.message}`);
  it('refuses a catastrophic regex, a broken one, an unknown webhook and a route without one action', async () => {
    expect(await problems([{ match: { subject: '(a+)+$' }, deliver: ['a'] }])).toEqual([
      expect.stringMatching(/routes\[0\]\.match\.subject: .*backtrack catastrophically/),
    ]);
    expect(await problems([{ match: { subject: '(' }, deliver: ['a'] }])).toEqual([
      expect.stringMatching(/not a valid regular expression/),
    ]);
    expect(await problems([{ deliver: ['nope'] }])).toEqual([
      expect.stringMatching(/routes\[0\]\.deliver\[0\]: unknown webhook "nope"/),
    ]);
    expect(await problems([{ deliver: ['a'], drop: true }])).toEqual([
      expect.stringMatching(/exactly one action/),
    ]);
    expect(await problems([{ match: { recipient: 'not an address' }, deliver: ['a'] }])).toEqual([
      expect.stringMatching(/recipient/),
    ]);
  });

  it('wants webhook or routes, exactly one', async () => {
    const both = configText((doc) => {
      doc.mailboxes.support.routes = [{ deliver: ['tickets'] }];
    });
    expect((await issuesOf(parse(both))).map((i) => i.message)).toEqual([
      expect.stringMatching(/exactly one/),
    ]);
  });
});

describe('the README Routes example', () => {
  it('loads and routes a billing+tag message to both of its targets', async () => {
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf('\n## Routes\n');
    const body = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(body)?.[1];
    const env = {
      ACCOUNTING_SECRET: SECRET,
      TICKETS_SECRET: SECRET,
      ARCHIVE_SECRET: SECRET,
      INTAKE_POP3_PASSWORD: 'pw',
    };
    const config = await parse(yaml!, env);
    const message = facts([h('Delivered-To', 'billing+2026@example.com'), h('Subject', 'Invoice')]);
    expect(decideRoute(config.mailboxes.intake!.routing, message)).toEqual({
      kind: 'deliver',
      routes: ['invoices'],
      targets: ['accounting', 'archive'],
    });
  });
});
