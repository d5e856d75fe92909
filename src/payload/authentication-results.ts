// Sender authentication as the operator's own servers judged it: SPF, DKIM, DMARC and ARC results read
// from Authentication-Results fields (RFC 8601) whose authserv-id the mailbox trusts. Anyone can write such
// a field into a message, so every other authserv-id is ignored (§5); a border MTA removes fields that
// carry its own id from incoming mail, so every field with a trusted id is that server's. Hand-written:
// mailauth has a parser, but only as an internal module, and its line for Node 20 is no longer kept.
import { splitOutsideQuotes, stripComments, unquote } from './header-fields.ts';
import type { PayloadAuthentication, PayloadHeader } from './types.ts';

interface ResInfo {
  method: string;
  result: string;
  /** `ptype.property` (lower-case) to value, e.g. `header.d` → `example.com`. */
  props: Map<string, string>;
}

/** The results of every trusted field merged, the topmost field first; null when none is trusted. */
export function readAuthentication(
  headers: readonly PayloadHeader[],
  trusted: readonly string[],
): PayloadAuthentication | null {
  const ids = new Set(trusted.map((id) => id.toLowerCase()));
  if (ids.size === 0) return null;
  let found: PayloadAuthentication | null = null;
  for (const { name, value } of headers) {
    if (name.toLowerCase() !== 'authentication-results') continue;
    const parsed = parseAuthenticationResults(value);
    if (parsed === null || !ids.has(parsed.authservId.toLowerCase())) continue;
    found ??= { authservId: parsed.authservId, spf: null, dkim: [], dmarc: null, arc: null };
    for (const info of parsed.results) merge(found, info);
  }
  return found;
}

/** Each method's first (topmost) result counts; every DKIM signature is listed. */
function merge(into: PayloadAuthentication, { method, result, props }: ResInfo): void {
  if (method === 'dkim') {
    const domain = props.get('header.d') ?? domainOf(props.get('header.i'));
    into.dkim.push({ result, domain, selector: props.get('header.s') ?? null });
  } else if (method === 'spf') {
    into.spf ??= { result, domain: domainOf(props.get('smtp.mailfrom') ?? props.get('smtp.helo')) };
  } else if (method === 'dmarc') {
    into.dmarc ??= { result, domain: domainOf(props.get('header.from')) };
  } else if (method === 'arc') {
    into.arc ??= { result };
  }
}

/** `user@example.com`, `@example.com` or `example.com` → `example.com` (lower-case); null when absent. */
function domainOf(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  return value.slice(value.lastIndexOf('@') + 1).toLowerCase() || null;
}

/** RFC 8601 §2.2: `authserv-id [version] ; method=result [reason=…] [ptype.property=value …] ; …`. */
export function parseAuthenticationResults(value: string): { authservId: string; results: ResInfo[] } | null {
  const [head = '', ...infos] = splitOutsideQuotes(stripComments(value), ';');
  const authservId = unquote(head.trim().split(/\s+/)[0] ?? '');
  // A value is a token or a quoted-string (RFC 2045 §5.1): a first word with '=' is a result, no id.
  if (authservId === '' || authservId.includes('=')) return null;
  const results: ResInfo[] = [];
  for (const info of infos) {
    const method = /^\s*([a-z0-9-]+)\s*(?:\/\s*\d+\s*)?=\s*([a-z0-9-]+)/i.exec(info);
    if (method === null) continue; // also the "none" of a field with no results (§2.2)
    const props = new Map<string, string>();
    const rest = info.slice(method[0].length);
    for (const prop of rest.matchAll(
      /([a-z0-9-]+)\s*\.\s*([a-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s"]+)/gi,
    )) {
      props.set(`${prop[1]}.${prop[2]}`.toLowerCase(), unquote(prop[3] ?? ''));
    }
    results.push({ method: (method[1] ?? '').toLowerCase(), result: (method[2] ?? '').toLowerCase(), props });
  }
  return { authservId, results };
}
