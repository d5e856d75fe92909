// What the server holds this session: message number, size and identity for every message. The identity
// is the UIDL (RFC 1939 §7); a server without UIDL gets a fallback identity, a digest of the headers from
// `TOP n 0` plus the size, stable across sessions as long as the message is unchanged.
import { createHash } from 'node:crypto';
import { isPop3Error, type MessageSize, type MessageUid, type Pop3Client } from '../pop3/index.ts';
import type { Logger } from '../telemetry/logger.ts';

export interface ListedMessage {
  msg: number;
  uidl: string;
  size: number;
}

export interface Listing {
  messages: ListedMessage[];
  /** True when identities are header digests because the server has no UIDL. */
  fallbackIdentity: boolean;
}

export async function readListing(
  client: Pop3Client,
  logger: Logger,
  signal?: AbortSignal,
): Promise<Listing> {
  const sizes = await client.list({ signal });
  const uids = await tryUidl(client, signal);
  if (uids) return { messages: withUids(sizes, uids), fallbackIdentity: false };
  logger.warn(
    { count: sizes.length },
    'server has no UIDL: identifying messages by a digest of their headers and size',
  );
  const messages: ListedMessage[] = [];
  for (const { msg, size } of sizes) {
    messages.push({ msg, size, uidl: await headerDigest(client, msg, size, signal) });
  }
  return { messages, fallbackIdentity: true };
}

/** Each listed message with its unique-id; one LIST shows but UIDL doesn't is left alone this session. */
function withUids(sizes: MessageSize[], uids: MessageUid[]): ListedMessage[] {
  // Servers list both in the same order: paired by position, with no map of a big maildrop's ids.
  if (sizes.length === uids.length && sizes.every(({ msg }, i) => uids[i]!.msg === msg)) {
    return sizes.map(({ msg, size }, i) => ({ msg, uidl: uids[i]!.uid, size }));
  }
  const uidByMsg = new Map(uids.map((u) => [u.msg, u.uid]));
  const messages: ListedMessage[] = [];
  for (const { msg, size } of sizes) {
    const uidl = uidByMsg.get(msg);
    if (uidl !== undefined) messages.push({ msg, uidl, size });
  }
  return messages;
}

async function tryUidl(client: Pop3Client, signal?: AbortSignal): Promise<MessageUid[] | null> {
  if (!client.capabilities.uidl && client.capabilities.names.length > 0) return null;
  try {
    return await client.uidl({ signal });
  } catch (error) {
    // -ERR to UIDL means "not supported" (RFC 1939 lists UIDL as optional) only from a server that did not
    // announce UIDL in CAPA. One that did is failing for now: falling back would give its messages new
    // identities (new webhook-ids, a second delivery), so the session fails and the next one tries again.
    if (isPop3Error(error, 'POP3_ERR') && !client.capabilities.uidl) return null;
    throw error;
  }
}

async function headerDigest(client: Pop3Client, msg: number, size: number, signal?: AbortSignal) {
  const hash = createHash('sha256');
  for await (const chunk of await client.top(msg, 0, { signal })) hash.update(chunk as Buffer);
  hash.update(`\0${size}`);
  return `x-digest-${hash.digest('hex').slice(0, 40)}`;
}
