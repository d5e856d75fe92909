// The UIDL ledger of each mailbox: one Redis hash, UIDL → entry, holding the state that decides what the
// poll session may DELE (DESIGN.md "The one promise", "The ledger").
//
// The promise rests on three rules enforced inside Lua scripts (scripts.ts), never in JS read-then-write:
// - `delivered` is written only by markDelivered, which callers invoke only after a 2xx;
// - nothing turns `delivered` back into `queued` or `dead` (a redelivery after a lost ack, a late retry);
// - entries are removed only while `delivered` (forgetDeleted after QUIT +OK, prune once the server stops
//   listing them), or by forgetIf to have the next poll retrieve the message afresh from the server (a
//   queued entry whose raw expired, a dead letter replayed). A `queued` or `dead` entry whose UIDL the server no longer lists is KEPT with its raw:
//   Gmail hides a message once retrieved in a session that ends with QUIT, and another client may delete
//   one, so "not listed" never proves "delivered", and dropping the raw would lose the only copy.
//
// entries() reads with HSCAN, 1,000 fields a reply, whatever the size: one huge reply never blocks Redis, and
// the flat reply costs about 40% of the CPU of HGETALL's (ioredis turns that into an object with a property per
// UIDL). HSCAN may repeat a field (the Map absorbs it) and is not a point-in-time snapshot, which is fine
// because every decision taken from it is re-checked inside a script.
// Redis errors propagate as ioredis errors; a corrupt entry is a PophookError LEDGER_CORRUPT.

import type { EmailCopy } from './content-claims.ts';
import {
  BODY_MAX_BYTES,
  type LedgerEntry,
  type LedgerError,
  type LedgerState,
  mapScriptError,
  NO_ENTRIES,
  parseEntry,
  parsePrevious,
  REASON_MAX,
  STATUS_TEXT_MAX,
  type TargetEntry,
} from './entry.ts';
import { mailboxKeys } from './keys.ts';
import { type RedisClient, type RunScript, scriptRunner } from './scripts.ts';

/**
 * A mailbox's start point at work (src/mailbox/onboarding.ts): which one, when it began, and when it was
 * done. Written before the first skip is recorded, so a session that dies midway is seen to have started.
 */
export interface OnboardingMarker {
  startAt: string;
  startedAt: number;
  doneAt?: number;
  skipped?: number;
  kept?: number;
}

export interface LedgerOptions {
  /** Clock for `since`/`deliveredAt`, in epoch ms (tests). */
  now?: () => number;
}

/** UIDLs per forget script call: bounds the script's run time and its KEYS array. */
const FORGET_BATCH = 500;
/** Fields per HSCAN reply (a hint: a small hash comes whole). */
const HSCAN_COUNT = 1000;

export class Ledger {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #run: RunScript;
  readonly #now: () => number;

  constructor(redis: RedisClient, prefix: string, options: LedgerOptions = {}) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#run = scriptRunner(redis);
    this.#now = options.now ?? Date.now;
  }

  async entries(mailbox: string): Promise<Map<string, LedgerEntry>> {
    const key = mailboxKeys(this.#prefix, mailbox).ledger;
    const result = new Map<string, LedgerEntry>();
    let cursor = '0';
    do {
      const [next, flat] = await this.#redis.hscan(key, cursor, 'COUNT', HSCAN_COUNT);
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const uidl = flat[i]!;
        result.set(uidl, parseEntry(uidl, flat[i + 1]!));
      }
      cursor = next;
    } while (cursor !== '0');
    return result;
  }

  async get(mailbox: string, uidl: string): Promise<LedgerEntry | undefined> {
    const raw = await this.#redis.hget(mailboxKeys(this.#prefix, mailbox).ledger, uidl);
    return raw === null ? undefined : parseEntry(uidl, raw);
  }

  /**
   * absent|queued → queued; dead → queued only with `replay: true`; delivered stays delivered.
   * Returns the previous state: the transition happened unless it is 'delivered', or 'dead' without replay.
   * The raw message is left as it is (a replayed dead letter keeps its persistent raw until delivered).
   */
  async markQueued(
    mailbox: string,
    uidl: string,
    info: { size: number; webhookId: string; replay?: boolean },
  ): Promise<LedgerState | 'absent'> {
    const [previous] = await this.markQueuedMany(mailbox, [{ uidl, ...info }], { replay: info.replay });
    return previous!;
  }

  /**
   * markQueued of several messages of one mailbox in one script, all carried by the deliver job `job` (kept
   * in their entries so reconcile can ask BullMQ about it). Returns each message's previous state, in order.
   */
  async markQueuedMany(
    mailbox: string,
    messages: ReadonlyArray<{ uidl: string; size: number; webhookId: string }>,
    options: { job?: string; replay?: boolean | undefined } = {},
  ): Promise<Array<LedgerState | 'absent'>> {
    const keys = mailboxKeys(this.#prefix, mailbox);
    const args = [this.#now(), options.replay ? '1' : '0', options.job ?? ''];
    for (const m of messages) args.push(m.uidl, m.size, m.webhookId);
    return this.#transitionMany('ledgerQueue', [keys.ledger], args, messages);
  }

  /**
   * → delivered, and the raw message deleted, in one script. Call ONLY after the webhook answered 2xx.
   * Idempotent; works from queued, dead (a replayed dead letter) and absent (the entry was pruned or
   * flushed but the delivery happened: recording it lets the next session DELE). Returns the previous state.
   */
  async markDelivered(
    mailbox: string,
    uidl: string,
    info: { status: number; attempts?: number | undefined },
  ): Promise<LedgerState | 'absent'> {
    const [previous] = await this.markDeliveredMany(mailbox, [{ uidl, ...info }]);
    return previous!;
  }

  /** markDelivered of several messages of one mailbox in one script. Returns each previous state, in order. */
  async markDeliveredMany(
    mailbox: string,
    messages: ReadonlyArray<{ uidl: string; status: number; attempts?: number | undefined }>,
  ): Promise<Array<LedgerState | 'absent'>> {
    const keys = mailboxKeys(this.#prefix, mailbox);
    const args: Array<string | number> = [this.#now()];
    // Pushed, not mapped and spread: TurboFan's inlined map returns a holey array, which deoptimizes the
    // spread (docs/performance.md, "the JIT's warm-up"); this runs for every group of deliveries.
    const redisKeys = [keys.ledger];
    for (const m of messages) {
      args.push(m.uidl, m.status, m.attempts ?? '');
      redisKeys.push(keys.raw(m.uidl));
    }
    return this.#transitionMany('ledgerDeliver', redisKeys, args, messages);
  }

  /**
   * absent|queued|dead → dead, the raw made persistent so a replay still has its bytes. Never overrides
   * delivered (returns 'delivered' and changes nothing). `reason` is stored truncated: never pass a secret.
   * `size` (the message's, when the entry has none yet) and `attempts` are kept beside the error.
   */
  async markDead(
    mailbox: string,
    uidl: string,
    info: LedgerError & { reason: string; attempts?: number; size?: number },
  ): Promise<LedgerState | 'absent'> {
    const keys = mailboxKeys(this.#prefix, mailbox);
    const { attempts, size, ...error } = info;
    const args = [uidl, this.#now(), JSON.stringify(boundError(error)), attempts ?? '', size ?? ''];
    return this.#transition('ledgerDead', [keys.ledger, keys.raw(uidl)], args, uidl);
  }

  /**
   * → delivered as a duplicate of `of` (the first copy of the same email, which the webhook accepted), the
   * raw deleted and the mailbox's duplicate counter raised, in one script. `status`: the 2xx of a copy sent
   * marked; absent when it was not sent. Never touches a delivered entry beyond its raw. Returns the
   * previous state.
   */
  async markDuplicate(
    mailbox: string,
    uidl: string,
    info: { of: EmailCopy; status?: number | undefined; attempts?: number | undefined },
  ): Promise<LedgerState | 'absent'> {
    const keys = mailboxKeys(this.#prefix, mailbox);
    const args = [uidl, this.#now(), JSON.stringify(info.of), info.status ?? '', info.attempts ?? ''];
    return this.#transition('ledgerDuplicate', [keys.ledger, keys.raw(uidl), keys.meta], args, uidl);
  }

  /**
   * A fan-out message's targets, `pending`, unless a decision is recorded already (that one stands).
   * Returns the entry's state and its targets (none when it is delivered or dead: nothing to send).
   */
  async fanOut(
    mailbox: string,
    uidl: string,
    targets: ReadonlyArray<{ webhook: string; id: string }>,
  ): Promise<{ state: LedgerState | 'absent'; targets: Record<string, TargetEntry> }> {
    const keys = mailboxKeys(this.#prefix, mailbox);
    const args = [uidl, this.#now(), ...targets.flatMap((t) => [t.webhook, t.id])];
    try {
      const [state, json] = (await this.#run('ledgerFanOut', [keys.ledger], args)) as [string, string];
      return { state: parsePrevious(state), targets: JSON.parse(json) as Record<string, TargetEntry> };
    } catch (error) {
      throw mapScriptError(error, uidl);
    }
  }

  /**
   * One target of a fan-out message answered 2xx (call ONLY then) or became a dead letter. The message
   * becomes delivered once every target is; dead once every target settled and one is dead. Returns the
   * message's state after.
   */
  async markTarget(
    mailbox: string,
    uidl: string,
    webhook: string,
    outcome:
      | { state: 'delivered'; status: number; attempts?: number | undefined }
      | { state: 'dead'; error: LedgerError; attempts?: number | undefined },
  ): Promise<LedgerState | 'absent'> {
    const keys = mailboxKeys(this.#prefix, mailbox);
    const args = [
      uidl,
      this.#now(),
      webhook,
      outcome.state,
      outcome.state === 'delivered' ? outcome.status : (outcome.error.status ?? ''),
      outcome.attempts ?? '',
      outcome.state === 'dead' ? JSON.stringify(boundError(outcome.error)) : '',
    ];
    return this.#transition('ledgerTarget', [keys.ledger, keys.raw(uidl)], args, uidl);
  }

  /** A drop route took the message: delivered (to no one) with `dropped: route`, the raw deleted. */
  async markDropped(mailbox: string, uidl: string, route: string): Promise<LedgerState | 'absent'> {
    const keys = mailboxKeys(this.#prefix, mailbox);
    const args = [uidl, this.#now(), route];
    return this.#transition('ledgerDrop', [keys.ledger, keys.raw(uidl), keys.meta], args, uidl);
  }

  /** After QUIT +OK: removes the entries of these UIDLs that are still delivered. Returns how many. */
  async forgetDeleted(mailbox: string, uidls: readonly string[]): Promise<number> {
    return (await this.#forget(mailbox, 'delivered', uidls)).length;
  }

  /**
   * Removes one entry (and its raw) if it is still in `state`, so the next poll retrieves the message
   * afresh: a queued entry whose raw bytes expired, or a dead letter being replayed from the server.
   * Returns whether it was removed.
   */
  async forgetIf(mailbox: string, uidl: string, state: 'queued' | 'dead'): Promise<boolean> {
    return (await this.#forget(mailbox, state, [uidl])).length === 1;
  }

  /**
   * Removes the delivered and skipped entries whose UIDL the server no longer lists (their work is done). Queued and
   * dead entries are kept even when unlisted: see the file header. Returns the pruned UIDLs.
   * `entries` is what the caller read earlier (a session's ledger, read at its start): each removal checks
   * the entry's state again in Redis, and one that turned delivered since is pruned by the next session, so
   * a session reads its mailbox's whole ledger once, not twice.
   */
  async prune(
    mailbox: string,
    entries: ReadonlyMap<string, LedgerEntry>,
    listed: ReadonlySet<string>,
  ): Promise<string[]> {
    const delivered: string[] = [];
    const skipped: string[] = [];
    for (const [uidl, entry] of entries) {
      if (listed.has(uidl)) continue;
      if (entry.state === 'delivered') delivered.push(uidl);
      // A skipped message has no bytes here and nothing owed: once gone from the server, it is done.
      if (entry.state === 'skipped') skipped.push(uidl);
    }
    return [
      ...(await this.#forget(mailbox, 'delivered', delivered)),
      ...(await this.#forget(mailbox, 'skipped', skipped)),
    ];
  }

  /**
   * absent → skipped for each UIDL: a start point held the message back. Never touches an existing entry.
   * Returns how many were recorded.
   */
  async markSkipped(mailbox: string, uidls: readonly string[]): Promise<number> {
    const keys = mailboxKeys(this.#prefix, mailbox);
    let recorded = 0;
    for (let i = 0; i < uidls.length; i += FORGET_BATCH) {
      const batch = uidls.slice(i, i + FORGET_BATCH);
      recorded += Number(await this.#run('ledgerSkip', [keys.ledger], [this.#now(), ...batch]));
    }
    return recorded;
  }

  async onboarding(mailbox: string): Promise<OnboardingMarker | undefined> {
    const raw = await this.#redis.get(mailboxKeys(this.#prefix, mailbox).onboarding);
    return raw === null ? undefined : (JSON.parse(raw) as OnboardingMarker);
  }

  async setOnboarding(mailbox: string, marker: OnboardingMarker): Promise<void> {
    await this.#redis.set(mailboxKeys(this.#prefix, mailbox).onboarding, JSON.stringify(marker));
  }

  async counts(mailbox: string): Promise<Record<LedgerState, number>> {
    const counts: Record<LedgerState, number> = { ...NO_ENTRIES };
    for (const entry of (await this.entries(mailbox)).values()) counts[entry.state] += 1;
    return counts;
  }

  async listDead(mailbox: string): Promise<Array<{ uidl: string; entry: LedgerEntry }>> {
    const dead: Array<{ uidl: string; entry: LedgerEntry }> = [];
    for (const [uidl, entry] of await this.entries(mailbox)) {
      if (entry.state === 'dead') dead.push({ uidl, entry });
    }
    return dead;
  }

  async #forget(mailbox: string, state: LedgerState, uidls: readonly string[]): Promise<string[]> {
    const keys = mailboxKeys(this.#prefix, mailbox);
    const removed: string[] = [];
    for (let i = 0; i < uidls.length; i += FORGET_BATCH) {
      const batch = uidls.slice(i, i + FORGET_BATCH);
      const redisKeys = [keys.ledger];
      for (const uidl of batch) redisKeys.push(keys.raw(uidl));
      const reply = await this.#run('ledgerForget', redisKeys, [state, ...batch]);
      removed.push(...(reply as string[]));
    }
    return removed;
  }

  async #transition(
    script: 'ledgerDead' | 'ledgerDuplicate' | 'ledgerTarget' | 'ledgerDrop',
    keys: string[],
    args: Array<string | number>,
    uidl: string,
  ): Promise<LedgerState | 'absent'> {
    try {
      return parsePrevious(await this.#run(script, keys, args));
    } catch (error) {
      throw mapScriptError(error, uidl);
    }
  }

  async #transitionMany(
    script: 'ledgerQueue' | 'ledgerDeliver',
    keys: string[],
    args: Array<string | number>,
    messages: ReadonlyArray<{ uidl: string }>,
  ): Promise<Array<LedgerState | 'absent'>> {
    if (messages.length === 0) return [];
    let reply: unknown;
    try {
      reply = await this.#run(script, keys, args);
    } catch (error) {
      // The script stops at the first corrupt entry; name the batch's first message as before for one.
      throw mapScriptError(error, messages[0]!.uidl);
    }
    if (!Array.isArray(reply) || reply.length !== messages.length) return [parsePrevious(reply)];
    return reply.map(parsePrevious);
  }
}

function boundError(error: LedgerError): LedgerError {
  const bounded: LedgerError = { code: error.code };
  if (error.status !== undefined) bounded.status = error.status;
  if (error.reason) bounded.reason = error.reason.slice(0, REASON_MAX);
  if (error.statusText) bounded.statusText = error.statusText.slice(0, STATUS_TEXT_MAX);
  if (error.body) bounded.body = truncateUtf8(error.body, BODY_MAX_BYTES);
  return bounded;
}

/** At most `bytes` of UTF-8, never half a character. */
function truncateUtf8(text: string, bytes: number): string {
  const encoded = Buffer.from(text, 'utf8');
  if (encoded.length <= bytes) return text;
  return encoded
    .subarray(0, bytes)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');
}
