// Which route a message takes: pure code over a mailbox's routes (src/config/routes.ts) and what the
// message says (src/payload/route-facts.ts). `first` takes the first route that matches; `all` takes every
// route that matches, its webhooks merged in route order, and drops only when every matching route drops.
// No matching route is `unmatched` (the deliver path makes it a dead letter, kept on the server). A regex
// sees at most MATCH_CHARS characters of a value, and config load refused catastrophic patterns, so
// hostile mail cannot make matching slow. From the header block alone (facts.body null) a condition on
// the body cannot be told: the decision then says which route needed the body.
import { ROUTE_REGEX_FLAGS, type Route, type RouteMatch, type Routing } from '../config/index.ts';
import type { RouteFacts } from '../payload/route-facts.ts';

export const MATCH_CHARS = 4096;

export type RouteDecision =
  | { kind: 'deliver'; routes: string[]; targets: string[] }
  | { kind: 'drop'; route: string }
  | { kind: 'unmatched' }
  /** Only from headers alone: `route` has a condition on the body, and the decision depends on it. */
  | { kind: 'needs-body'; route: string };

type Verdict = boolean | 'needs-body';

export function decideRoute(routing: Routing, facts: RouteFacts): RouteDecision {
  const taken: Route[] = [];
  for (const route of routing.routes) {
    const verdict = route.match === undefined ? true : matches(route.match, facts);
    if (verdict === 'needs-body') return { kind: 'needs-body', route: route.name };
    if (!verdict) continue;
    taken.push(route);
    if (routing.mode === 'first') break;
  }
  const delivering = taken.filter((r) => !r.drop);
  if (delivering.length > 0) {
    const targets = [...new Set(delivering.flatMap((r) => r.deliver))];
    return { kind: 'deliver', routes: delivering.map((r) => r.name), targets };
  }
  const [dropping] = taken;
  return dropping ? { kind: 'drop', route: dropping.name } : { kind: 'unmatched' };
}

/** Every condition given must hold; the body's conditions are looked at last. */
function matches(match: RouteMatch, facts: RouteFacts): Verdict {
  const header: boolean[] = [
    match.recipient === undefined ||
      facts.recipients.some((a) => match.recipient!.some((p) => addressIs(a, p))),
    match.to === undefined || facts.to.some((a) => match.to!.some((p) => addressIs(a, p))),
    match.from === undefined || (facts.from !== null && match.from.some((p) => addressIs(facts.from!, p))),
    match.subject === undefined || (facts.subject !== null && test(match.subject, facts.subject)),
    match.headers === undefined ||
      Object.entries(match.headers).every(([name, pattern]) => headerIs(facts, name, pattern)),
    match.autoReply === undefined || match.autoReply === facts.autoReply,
    match.bulk === undefined || match.bulk === facts.bulk,
  ];
  if (header.includes(false)) return false;
  const needsBody =
    match.hasAttachments !== undefined || match.attachmentType !== undefined || match.bounce !== undefined;
  if (!needsBody) return true;
  const { body } = facts;
  if (body === null) return 'needs-body';
  return (
    (match.hasAttachments === undefined || match.hasAttachments === body.attachmentTypes.length > 0) &&
    (match.attachmentType === undefined ||
      body.attachmentTypes.some((t) => match.attachmentType!.some((p) => typeIs(t, p)))) &&
    (match.bounce === undefined || match.bounce === body.bounce)
  );
}

/**
 * `@example.com`: any address of that domain; `name@example.com`: that address, and with any plus tag
 * (`name+tag@example.com`, RFC 5233) unless the pattern names a tag itself.
 */
export function addressIs(address: string, pattern: string): boolean {
  const at = address.lastIndexOf('@');
  if (pattern.startsWith('@')) return address.slice(at) === pattern;
  if (address === pattern) return true;
  const local = address.slice(0, at);
  const plus = local.indexOf('+');
  return !pattern.includes('+') && plus > 0 && `${local.slice(0, plus)}${address.slice(at)}` === pattern;
}

function headerIs(facts: RouteFacts, name: string, pattern: string): boolean {
  const lower = name.toLowerCase();
  return facts.headers.some((h) => h.name.toLowerCase() === lower && test(pattern, h.value));
}

/** `type/*` takes every subtype. */
function typeIs(type: string, pattern: string): boolean {
  const lower = type.toLowerCase();
  return pattern.endsWith('/*') ? lower.startsWith(pattern.slice(0, -1)) : lower === pattern;
}

const compiled = new Map<string, RegExp>();

function test(pattern: string, value: string): boolean {
  let regex = compiled.get(pattern);
  if (regex === undefined) {
    regex = new RegExp(pattern, ROUTE_REGEX_FLAGS);
    compiled.set(pattern, regex);
  }
  return regex.test(value.slice(0, MATCH_CHARS));
}
