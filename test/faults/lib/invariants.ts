// The promise as checks over what the receiver recorded and what the POP3 journal saw:
// - lost: a message added to Dovecot with no answered 2xx (every message must be delivered at least once);
// - early deletes: a DELE for a UIDL whose first answered 2xx was not recorded before the DELE left
//   pophook (the receiver records a delivery before it sends the answer, so "2xx recorded < DELE" is
//   implied by "pophook saw the 2xx before it sent DELE"; a DELE for a UIDL never seen in a listing counts
//   too, since it can't be proven);
// - webhook-id mismatch: a Message-ID that arrived under more than one webhook-id;
// - duplicates: answered 2xx beyond the first per Message-ID (allowed, counted, reported as a rate).
import type { Delivery } from '../../helpers/receiver.ts';
import type { World } from './world.ts';

export interface Figures {
  scenario: string;
  seed: number;
  messages: number;
  kills: number;
  faults: number;
  restarts: number;
  sessions: number;
  lost: number;
  earlyDeletes: number;
  webhookIdMismatches: number;
  duplicates: number;
  leftOnServer: number;
  seconds: number;
}

interface Payload {
  messageId?: string;
  mailbox?: string;
  uidl?: string;
}

const bare = (id: string | undefined) => (id ?? '').replace(/^<|>$/g, '');

export function checkPromise(world: World, elapsedMs: number): Figures {
  const ok = new Map<string, number>();
  const ids = new Map<string, Set<string>>();
  const firstOkAt = new Map<string, number>();
  for (const delivery of world.receiver.deliveries) {
    const payload = delivery.json as Payload | undefined;
    const messageId = bare(payload?.messageId);
    if (!messageId) continue;
    ids.set(messageId, (ids.get(messageId) ?? new Set()).add(delivery.webhookId));
    if (!accepted(delivery)) continue;
    ok.set(messageId, (ok.get(messageId) ?? 0) + 1);
    const key = `${payload?.mailbox}\0${payload?.uidl}`;
    const at = delivery.receivedAt.getTime();
    if (!firstOkAt.has(key) || firstOkAt.get(key)! > at) firstOkAt.set(key, at);
  }
  let earlyDeletes = 0;
  for (const dele of world.journal.deles) {
    const okAt = firstOkAt.get(`m${dele.user.slice(1)}\0${dele.uidl}`);
    if (dele.uidl === undefined || okAt === undefined || okAt >= dele.at) earlyDeletes += 1;
  }
  return {
    scenario: world.name,
    seed: world.seed,
    messages: world.added.length,
    kills: world.kills,
    faults: world.faults,
    restarts: world.fleet.members.reduce((n, m) => n + m.restarts, 0),
    sessions: world.journal.sessions,
    lost: world.added.filter(({ message }) => !ok.has(message.messageId)).length,
    earlyDeletes,
    webhookIdMismatches: [...ids.values()].filter((set) => set.size > 1).length,
    duplicates: [...ok.values()].reduce((n, count) => n + count - 1, 0),
    leftOnServer: 0,
    seconds: Math.round(elapsedMs / 1000),
  };
}

function accepted(delivery: Delivery): boolean {
  return (
    typeof delivery.status === 'number' &&
    delivery.status >= 200 &&
    delivery.status < 300 &&
    delivery.answered
  );
}
