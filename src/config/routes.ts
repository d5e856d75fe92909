// A mailbox's routes: the schema of `routes:` and `routeMode:`, and what build.ts makes of them. A route
// matches on what a parsed message says (src/routing/match.ts decides) and either delivers to webhooks or
// drops the message. Regexes come from the file but run against hostile mail, so each is compiled and
// checked here (safe-regex2 refuses star height above 1, the shape of catastrophic backtracking) and
// matched against at most the first MATCH_CHARS characters of a value (src/routing/match.ts).
import safeRegex from 'safe-regex2';
import * as z from 'zod';
import { boolean, documented as doc, expecting, id, line, oneOf } from './fields.ts';

export const ROUTE_MODES = ['first', 'all'] as const;
export type RouteMode = (typeof ROUTE_MODES)[number];

/** What a route looks at; every condition given must hold (an empty match holds for every message). */
export interface RouteMatch {
  /** Envelope recipients (Delivered-To, X-Original-To, Envelope-To…): addresses or `@domain`, lower-case. */
  readonly recipient?: readonly string[];
  /** To and Cc addresses or `@domain`. */
  readonly to?: readonly string[];
  readonly from?: readonly string[];
  /** Regex sources, matched case-insensitively. */
  readonly subject?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly hasAttachments?: boolean;
  /** `type/subtype` or `type/*`, lower-case. */
  readonly attachmentType?: readonly string[];
  readonly autoReply?: boolean;
  readonly bulk?: boolean;
  readonly bounce?: boolean;
}

export interface Route {
  /** The route's name in logs, status and `pophook check` (default `route-<n>`, counted from 1). */
  readonly name: string;
  /** Absent: the default route (matches every message). */
  readonly match?: RouteMatch;
  /** Webhook ids to deliver to; empty for a drop route. */
  readonly deliver: readonly string[];
  readonly drop: boolean;
}

export interface Routing {
  readonly mode: RouteMode;
  readonly routes: readonly Route[];
}

/** Route regexes are case-insensitive and Unicode-aware. */
export const ROUTE_REGEX_FLAGS = 'iu';

/** A JavaScript regex source that compiles and cannot backtrack catastrophically. */
function regex() {
  return z
    .string({ error: expecting('expected a regular expression as a string') })
    .superRefine((text, ctx) => {
      try {
        new RegExp(text, ROUTE_REGEX_FLAGS);
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          message: `not a valid regular expression: ${(error as Error).message}`,
        });
        return;
      }
      if (!safeRegex(text)) {
        ctx.addIssue({
          code: 'custom',
          message:
            'this regex may backtrack catastrophically on hostile mail (nested quantifiers): simplify it',
        });
      }
    });
}

const ADDRESS = /^(?:[^\s@]+@|@)[^\s@]+$/;

/** One address or `@domain`, or a list of them; compared lower-case. */
function addresses(what: string) {
  const one = line(what).refine((text) => ADDRESS.test(text), {
    error: `expected ${what}: an address (name@example.com) or a domain (@example.com)`,
  });
  return z.union([one.transform((text) => [text]), z.array(one).min(1)], {
    error: expecting(`expected ${what} or a list of them`),
  });
}

const MIME_TYPE = /^[a-z0-9!#$&^_.+-]+\/(?:\*|[a-z0-9!#$&^_.+-]+)$/i;

const match = z.strictObject({
  recipient: doc(
    addresses('a recipient'),
    'address | list',
    'envelope recipient (Delivered-To, X-Original-To, Envelope-To, X-Envelope-To); name@… without a +tag also matches name+tag@…',
  ).optional(),
  to: doc(addresses('an address'), 'address | list', 'an address or @domain in To or Cc').optional(),
  from: doc(addresses('a sender'), 'address | list', 'the From address or @domain').optional(),
  subject: doc(regex(), 'regex', 'the subject matches this regex (case-insensitive)').optional(),
  headers: doc(
    z.record(line('a header name'), regex()),
    'map of regex',
    'header name → regex one of its values matches (case-insensitive)',
  ).optional(),
  hasAttachments: doc(boolean(), 'boolean', 'the message has attachments (or has none)').optional(),
  attachmentType: doc(
    z.union([
      line('a content type')
        .regex(MIME_TYPE)
        .transform((t) => [t]),
      z.array(line('a content type').regex(MIME_TYPE)).min(1),
    ]),
    'type | list',
    'an attachment has this content type (application/pdf, image/*)',
  ).optional(),
  autoReply: doc(
    boolean(),
    'boolean',
    'the payload’s autoReply flag (RFC 3834 and vendor headers)',
  ).optional(),
  bulk: doc(boolean(), 'boolean', 'the payload’s bulk flag (Precedence, List-Id)').optional(),
  bounce: doc(
    boolean(),
    'boolean',
    'the message is a delivery failure report (the payload’s bounce)',
  ).optional(),
});

const route = z
  .strictObject({
    name: doc(
      id(),
      'id',
      'the route’s name in logs, status and pophook check (default route-<n>)',
    ).optional(),
    match: doc(match, 'section', 'conditions, all of which must hold; absent: the default route').optional(),
    deliver: doc(
      z.array(id(), { error: expecting('expected a list of webhook ids') }).min(1),
      'list of webhook id',
      'deliver to each of these webhooks (each with its own state, retries and webhook-id)',
    ).optional(),
    drop: doc(boolean(), 'boolean', 'drop the message: recorded and counted, never delivered').optional(),
  })
  .superRefine((value, ctx) => {
    if ((value.deliver === undefined) === (value.drop !== true)) {
      ctx.addIssue({
        code: 'custom',
        message: 'a route needs exactly one action: deliver: [webhook ids] or drop: true',
      });
    }
  });

export const routesField = doc(
  z.array(route, { error: expecting('expected a list of routes') }).min(1),
  'list of route',
  'ordered routes (see Routes); replaces webhook',
).optional();

export const routeModeField = doc(
  oneOf(ROUTE_MODES),
  ROUTE_MODES.join(' | '),
  'first: the first matching route only; all: every matching route (targets merged)',
).prefault('first');

export type RouteDocument = z.output<typeof route>;

/** A mailbox's routing: its routes, or the `webhook:` shorthand as one default route. */
export function buildRouting(
  mode: RouteMode,
  routes: readonly RouteDocument[] | undefined,
  webhook: string | undefined,
): Routing {
  if (routes === undefined) {
    return { mode, routes: [{ name: 'default', deliver: [webhook!], drop: false }] };
  }
  return {
    mode,
    routes: routes.map((r, i) => ({
      name: r.name ?? `route-${i + 1}`,
      ...(r.match === undefined ? {} : { match: buildMatch(r.match) }),
      deliver: r.deliver ?? [],
      drop: r.drop === true,
    })),
  };
}

function buildMatch(doc: RouteDocument['match'] & object): RouteMatch {
  const lower = (list: readonly string[] | undefined) => list?.map((s) => s.toLowerCase());
  const built: Record<string, unknown> = {
    ...doc,
    recipient: lower(doc.recipient),
    to: lower(doc.to),
    from: lower(doc.from),
    attachmentType: lower(doc.attachmentType),
  };
  return Object.fromEntries(Object.entries(built).filter(([, v]) => v !== undefined)) as RouteMatch;
}

/** Every webhook a mailbox's routes may deliver to, in route order. */
export function routeTargets(routing: Routing): string[] {
  return [...new Set(routing.routes.flatMap((r) => r.deliver))];
}
