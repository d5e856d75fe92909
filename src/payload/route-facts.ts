// What routes look at of a message (src/routing/match.ts decides): its envelope recipients, To/Cc/From
// addresses, subject, root header fields and intake flags, plus what only the body tells (attachment types,
// a bounce). Built in the parse thread from the parsed message, or from the header block alone (TOP n 0,
// `pophook check`), in which case `body` is null. Addresses are read from at most ADDRESS_CHARS of each
// field, so hostile mail cannot make this slow.
import { readIntakeSignals } from './intake-signals.ts';
import type { PayloadHeader } from './types.ts';

export interface RouteFacts {
  /** Envelope recipients, lower-case, every one the delivery headers name. */
  recipients: string[];
  /** To and Cc addresses, lower-case. */
  to: string[];
  from: string | null;
  subject: string | null;
  headers: PayloadHeader[];
  autoReply: boolean;
  bulk: boolean;
  /** Known after a parse of the whole message; null from the header block alone. */
  body: { attachmentTypes: string[]; bounce: boolean } | null;
}

// Every header that names an envelope recipient (intake-signals.ts takes the first of the first three).
const RECIPIENT_HEADERS = new Set(['x-original-to', 'delivered-to', 'envelope-to', 'x-envelope-to']);
const ADDRESS_CHARS = 4096;
const ADDRESS = /<([^<>\s]+@[^<>\s]+)>|([^\s<>,;"()]+@[^\s<>,;"()]+)/g;

export function routeFacts(
  headers: readonly PayloadHeader[],
  subject: string | null,
  body: RouteFacts['body'],
): RouteFacts {
  const { autoReply, bulk } = readIntakeSignals(headers);
  const addressesOf = (names: ReadonlySet<string>) =>
    headers.filter((h) => names.has(h.name.toLowerCase())).flatMap((h) => addressesIn(h.value));
  return {
    recipients: addressesOf(RECIPIENT_HEADERS),
    to: addressesOf(new Set(['to', 'cc'])),
    from: addressesOf(new Set(['from']))[0] ?? null,
    subject,
    headers: [...headers],
    autoReply,
    bulk,
    body,
  };
}

/** Every addr-spec in a field (`Name <a@b>`, `a@b, c@d`), lower-case. */
function addressesIn(value: string): string[] {
  return [...value.slice(0, ADDRESS_CHARS).matchAll(ADDRESS)].map((m) => (m[1] ?? m[2]!).toLowerCase());
}
