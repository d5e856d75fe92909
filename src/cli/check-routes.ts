// `pophook check --routes MAILBOX [--last N]`: which route each of the last N messages of a mailbox would
// take, decided from its header block (TOP n 0) by the same code as delivery (src/routing/match.ts).
// Nothing is retrieved, deleted or recorded, and Redis is not touched. A route whose conditions need the
// body (hasAttachments, attachmentType, bounce) cannot be decided from headers: the line says so.
import type { Config } from '../config/index.ts';
import { PophookError } from '../errors.ts';
import { readHead } from '../mailbox/message-headers.ts';
import { connectMailbox } from '../mailbox/poll.ts';
import { uncachedTokens } from '../oauth/index.ts';
import { readMessageHeaders, routeFacts } from '../payload/index.ts';
import { decideRoute, type RouteDecision } from '../routing/match.ts';
import type { CliIo } from './io.ts';

export const DEFAULT_LAST = 10;

export interface RoutedMessage {
  msg: number;
  uidl: string;
  subject: string | null;
  decision: RouteDecision;
}

export async function checkRoutes(
  config: Config,
  mailboxId: string,
  options: { last: number; json: boolean },
  io: CliIo,
): Promise<number> {
  const mailbox = config.mailboxes[mailboxId];
  if (!mailbox) {
    throw new PophookError('MAILBOX_UNKNOWN', `no mailbox "${mailboxId}" in the config`, {
      details: { known: Object.keys(config.mailboxes) },
    });
  }
  const signal = AbortSignal.timeout(mailbox.sessionTimeoutMs);
  const client = await connectMailbox(mailbox, signal, undefined, uncachedTokens(config.credentials ?? {}));
  const routed: RoutedMessage[] = [];
  try {
    const uids = (await client.uidl({ signal })).slice(-options.last);
    const uidOf = new Map(uids.map((u) => [u.msg, u.uid]));
    await client.topEach(
      uids.map((u) => u.msg),
      0,
      async (msg, body) => {
        const head = readMessageHeaders(await readHead(body));
        const facts = routeFacts(head.headers, head.subject, null);
        routed.push({
          msg,
          uidl: uidOf.get(msg)!,
          subject: head.subject,
          decision: decideRoute(mailbox.routing, facts),
        });
      },
      { signal },
    );
    await client.quit({ signal });
  } finally {
    client.close();
  }
  if (options.json) io.stdout.write(`${JSON.stringify(routed, null, 2)}\n`);
  else io.stdout.write(formatRouted(mailboxId, routed));
  return 0;
}

const clean = (text: string): string => text.replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ');

export function formatRouted(mailbox: string, routed: readonly RoutedMessage[]): string {
  const lines = routed.map(({ msg, uidl, subject, decision }) => {
    const what = `${msg} ${clean(uidl)} "${clean(subject ?? '')}"`;
    return `${what} → ${describeDecision(decision)}`;
  });
  return `${lines.join('\n')}${lines.length > 0 ? '\n' : ''}${routed.length} message(s) of ${mailbox}, from their headers; nothing was changed\n`;
}

function describeDecision(decision: RouteDecision): string {
  switch (decision.kind) {
    case 'deliver':
      return `${decision.routes.join(', ')}: deliver to ${decision.targets.join(', ')}`;
    case 'drop':
      return `${decision.route}: drop`;
    case 'unmatched':
      return 'no route matches: dead letter (ROUTE_UNMATCHED), kept on the server';
    case 'needs-body':
      return `undecided: route ${decision.route} has a condition on the body (attachments or bounce), known only at delivery`;
  }
}
