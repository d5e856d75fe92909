// The Lua scripts behind the ledger, the raw store, the lock and the content claims, and the one place that
// registers them on an ioredis client. A script runs atomically in Redis, so each read-decide-write below
// cannot interleave with another client's (DESIGN.md: "State changes that belong together happen
// atomically"). Every key a script touches is passed in KEYS and carries one hash tag (the mailbox's, or a
// claim's own), so the scripts are legal in Redis Cluster. Registration goes through ioredis
// `defineCommand`: EVALSHA, with EVAL when the server answers NOSCRIPT (after a restart or SCRIPT FLUSH).
import type { RedisClient } from '../queue/connections.ts';

export type { RedisClient };

// Shared by the ledger scripts. An entry is a JSON object with at least `state` and `since`; `since` moves
// only when the state changes. A corrupt entry makes load_entry return false and the script refuse.
// Numbers survive cjson: it prints 14 significant digits and epoch ms has 13 until the year 2286.
const ENTRY_HELPERS = `
local function load_entry(hash, uidl)
  local stored = redis.call('HGET', hash, uidl)
  if not stored then return {}, 'absent' end
  local ok, entry = pcall(cjson.decode, stored)
  if not ok or type(entry) ~= 'table' then return false, nil end
  local s = entry.state
  if s ~= 'queued' and s ~= 'delivered' and s ~= 'dead' and s ~= 'skipped' then return false, nil end
  return entry, s
end
local function save_entry(hash, uidl, entry, state, now)
  if entry.state ~= state then entry.since = now end
  entry.state = state
  redis.call('HSET', hash, uidl, cjson.encode(entry))
end
`;

const CORRUPT = `return redis.error_reply('LEDGER_CORRUPT entry is not one pophook wrote')`;

const SCRIPTS = {
  // KEYS: ledger. ARGV: now, replay ('1'|'0'), job (the deliver job's id, '' = none), then (uidl, size,
  // webhookId) per message. Per message: absent|queued → queued; dead → queued only on replay; delivered is
  // never taken back (a redelivery after a lost ack must not make a delivered message look undelivered).
  // `job` names the job that carries it (a batch's id: reconcile asks BullMQ about it). Replies the
  // previous state of each message, in order.
  ledgerQueue: `${ENTRY_HELPERS}
local now = tonumber(ARGV[1])
local previous = {}
for i = 4, #ARGV, 3 do
  local uidl = ARGV[i]
  local fresh = { state = 'queued', since = now, size = tonumber(ARGV[i + 1]), webhookId = ARGV[i + 2] }
  if ARGV[3] ~= '' then fresh.job = ARGV[3] end
  -- A new message (nearly every one) is one HSETNX; an existing entry is read and decided on.
  if redis.call('HSETNX', KEYS[1], uidl, cjson.encode(fresh)) == 1 then
    previous[#previous + 1] = 'absent'
  else
    local entry, prev = load_entry(KEYS[1], uidl)
    if not entry then ${CORRUPT} end
    previous[#previous + 1] = prev
    if prev ~= 'delivered' and (prev ~= 'dead' or ARGV[2] == '1') then
      -- A replayed fan-out message: its dead targets are owed again, its delivered ones stay delivered.
      if prev == 'dead' and type(entry.targets) == 'table' then
        for _, target in pairs(entry.targets) do
          if target.state == 'dead' then
            target.state = 'pending'
            target.lastError = nil
          end
        end
      end
      entry.size = fresh.size
      entry.webhookId = fresh.webhookId
      entry.job = fresh.job
      save_entry(KEYS[1], uidl, entry, 'queued', now)
    end
  end
end
return previous`,

  // KEYS: ledger, then the raw key of each message. ARGV: now, then (uidl, status, attempts ('' = unknown))
  // per message, the raw of ARGV[2 + 3(i-1)] at KEYS[i + 1]. Per message: any state (absent included: the
  // entry was flushed but the 2xx is a fact) → delivered, raw deleted. Already delivered: only the raw is
  // (re)deleted, the first deliveredAt stays. Replies the previous state of each message, in order.
  ledgerDeliver: `${ENTRY_HELPERS}
local now = tonumber(ARGV[1])
local previous = {}
for i = 2, #ARGV, 3 do
  local uidl = ARGV[i]
  local entry, prev = load_entry(KEYS[1], uidl)
  if not entry then ${CORRUPT} end
  previous[#previous + 1] = prev
  redis.call('DEL', KEYS[(i + 1) / 3 + 1])
  if prev ~= 'delivered' then
    entry.lastError = nil
    entry.job = nil
    entry.status = tonumber(ARGV[i + 1])
    entry.deliveredAt = now
    if ARGV[i + 2] ~= '' then entry.attempts = tonumber(ARGV[i + 2]) end
    save_entry(KEYS[1], uidl, entry, 'delivered', now)
  end
end
return previous`,

  // KEYS: ledger, raw. ARGV: uidl, now, lastError (JSON), attempts ('' = unknown), size ('' = unknown).
  // absent|queued|dead → dead and the raw made persistent (a dead letter keeps its bytes for replay);
  // delivered is never overridden.
  ledgerDead: `${ENTRY_HELPERS}
local entry, prev = load_entry(KEYS[1], ARGV[1])
if not entry then ${CORRUPT} end
if prev == 'delivered' then return prev end
entry.lastError = cjson.decode(ARGV[3])
if ARGV[4] ~= '' then entry.attempts = tonumber(ARGV[4]) end
if ARGV[5] ~= '' and entry.size == nil then entry.size = tonumber(ARGV[5]) end
redis.call('PERSIST', KEYS[2])
save_entry(KEYS[1], ARGV[1], entry, 'dead', tonumber(ARGV[2]))
return prev`,

  // KEYS: ledger, raw, meta. ARGV: uidl, now, duplicateOf (JSON), status ('' = not sent), attempts ('' =
  // unknown). A copy of an email whose first copy a webhook accepted (src/delivery/dedupe.ts): any state →
  // delivered with duplicateOf, raw deleted, the mailbox's `duplicates` counter raised once. Already
  // delivered: only the raw is (re)deleted. Replies the previous state.
  ledgerDuplicate: `${ENTRY_HELPERS}
local entry, prev = load_entry(KEYS[1], ARGV[1])
if not entry then ${CORRUPT} end
redis.call('DEL', KEYS[2])
if prev == 'delivered' then return prev end
entry.lastError = nil
entry.job = nil
entry.duplicateOf = cjson.decode(ARGV[3])
entry.deliveredAt = tonumber(ARGV[2])
if ARGV[4] ~= '' then entry.status = tonumber(ARGV[4]) end
if ARGV[5] ~= '' then entry.attempts = tonumber(ARGV[5]) end
save_entry(KEYS[1], ARGV[1], entry, 'delivered', tonumber(ARGV[2]))
redis.call('HINCRBY', KEYS[3], 'duplicates', 1)
return prev`,

  // KEYS: ledger. ARGV: uidl, now, then (target, webhookId) per target. Records which webhooks a fan-out
  // message goes to, each `pending`, unless a decision is already recorded (the first one stands: a repeat
  // after a crash or a config change never re-routes). absent|queued → queued (absent: the entry was
  // flushed, the raw bytes are still here); the entry names the job of its first target. Replies the
  // entry's state and its targets as JSON (delivered and dead entries are left alone).
  ledgerFanOut: `${ENTRY_HELPERS}
local entry, prev = load_entry(KEYS[1], ARGV[1])
if not entry then ${CORRUPT} end
if prev == 'delivered' or prev == 'dead' then return { prev, '{}' } end
if type(entry.targets) ~= 'table' then
  entry.targets = {}
  for i = 3, #ARGV, 2 do entry.targets[ARGV[i]] = { state = 'pending', id = ARGV[i + 1] } end
  entry.job = ARGV[4]
  save_entry(KEYS[1], ARGV[1], entry, 'queued', tonumber(ARGV[2]))
end
return { prev, cjson.encode(entry.targets) }`,

  // KEYS: ledger, raw. ARGV: uidl, now, target, outcome ('delivered'|'dead'), status ('' = none),
  // attempts ('' = unknown), lastError (JSON, '' = none). One target of a fan-out message answered 2xx or
  // became a dead letter. The message becomes delivered (raw deleted) once every target is delivered, dead
  // (raw persistent, the message stays on the server) once every target settled and one is dead; until
  // then it stays queued, naming the job of a target still pending. A delivered target is never taken
  // back. Replies the message's state after.
  ledgerTarget: `${ENTRY_HELPERS}
local entry, prev = load_entry(KEYS[1], ARGV[1])
if not entry then ${CORRUPT} end
if prev == 'delivered' then return prev end
local target = type(entry.targets) == 'table' and entry.targets[ARGV[3]] or nil
if not target or target.state == 'delivered' then return prev end
local now = tonumber(ARGV[2])
target.state = ARGV[4]
target.at = now
if ARGV[5] ~= '' then target.status = tonumber(ARGV[5]) end
if ARGV[6] ~= '' then target.attempts = tonumber(ARGV[6]) end
if ARGV[7] ~= '' then
  target.lastError = cjson.decode(ARGV[7])
  entry.lastError = target.lastError
end
local pending, dead = nil, false
for _, t in pairs(entry.targets) do
  if t.state == 'pending' then pending = pending or t.id end
  if t.state == 'dead' then dead = true end
end
if ARGV[4] == 'dead' then redis.call('PERSIST', KEYS[2]) end
if pending then
  entry.job = pending
  save_entry(KEYS[1], ARGV[1], entry, 'queued', now)
  return 'queued'
end
entry.job = nil
if dead then
  save_entry(KEYS[1], ARGV[1], entry, 'dead', now)
  return 'dead'
end
redis.call('DEL', KEYS[2])
entry.lastError = nil
entry.deliveredAt = now
save_entry(KEYS[1], ARGV[1], entry, 'delivered', now)
return 'delivered'`,

  // KEYS: ledger, raw, meta. ARGV: uidl, now, route. A drop route took the message: → delivered with
  // `dropped` (the route's name), raw deleted, counted in the mailbox's meta (`dropped`), so delete mode
  // DELEs it like a delivered one and keep mode never fetches it again. Delivered stays as it is. Replies
  // the previous state.
  ledgerDrop: `${ENTRY_HELPERS}
local entry, prev = load_entry(KEYS[1], ARGV[1])
if not entry then ${CORRUPT} end
redis.call('DEL', KEYS[2])
if prev == 'delivered' then return prev end
entry.job = nil
entry.lastError = nil
entry.dropped = ARGV[3]
redis.call('HINCRBY', KEYS[3], 'dropped', 1)
entry.deliveredAt = tonumber(ARGV[2])
save_entry(KEYS[1], ARGV[1], entry, 'delivered', tonumber(ARGV[2]))
return prev`,

  // KEYS: ledger. ARGV: now, uidls. absent → skipped (a start point held the message back: seen, never
  // delivered, never deleted); an existing entry of any state is left alone. Replies how many were recorded.
  ledgerSkip: `
local recorded = 0
local entry = cjson.encode({ state = 'skipped', since = tonumber(ARGV[1]) })
for i = 2, #ARGV do
  recorded = recorded + redis.call('HSETNX', KEYS[1], ARGV[i], entry)
end
return recorded`,

  // KEYS: ledger, then the raw key of each uidl ARGV[i + 1] at KEYS[i + 1]. ARGV: state, uidls.
  // Removes the entries (and raws) that are in `state` at this instant, skips every other state. A
  // delivered entry has no raw (ledgerDeliver deleted it; one written later by a race expires by its TTL),
  // so forgetting delivered entries leaves raw keys alone. Replies the removed uidls.
  ledgerForget: `${ENTRY_HELPERS}
local removed = {}
for i = 2, #ARGV do
  local uidl = ARGV[i]
  local _, state = load_entry(KEYS[1], uidl)
  if state == ARGV[1] then
    redis.call('HDEL', KEYS[1], uidl)
    if state ~= 'delivered' then redis.call('DEL', KEYS[i]) end
    removed[#removed + 1] = uidl
  end
end
return removed`,

  // KEYS: temp raw. ARGV: offset, chunk. Appends only at the expected offset, so a temp key that expired or
  // was flushed mid-write, or a chunk resent by ioredis after a reconnect, fails the write instead of
  // leaving a message with a hole or a repeat in it.
  rawAppendAt: `
if redis.call('STRLEN', KEYS[1]) ~= tonumber(ARGV[1]) then
  return redis.error_reply('RAW_MISSING temp key changed during write')
end
return redis.call('APPEND', KEYS[1], ARGV[2])`,

  // KEYS: temp raw, raw. ARGV: size, ttlMs. Publishes a complete write under its real name (RENAME is
  // atomic, so readers never see half a message) with the TTL counted from now; a short temp key is dropped.
  rawCommit: `
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('STRLEN', KEYS[1]) ~= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return redis.error_reply('RAW_MISSING temp key changed during write')
end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1`,

  // KEYS: raw. Replies -1 when absent (STRLEN alone cannot tell an absent key from an empty message).
  rawSize: `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('STRLEN', KEYS[1])`,

  // Content claims (content-claims.ts): a hash { state = pending|delivered, id, mailbox, uidl } per webhook
  // and contentKey. KEYS: claim. ARGV: id (the webhook-id of this copy), mailbox, uidl, leaseMs.
  // Absent, or this copy's own pending claim: (re)taken as pending for leaseMs, replies {'claimed'}. This
  // copy's own delivered claim: replies {'mine'} (a repeat of the first copy). Another copy's claim:
  // replies {state, id, mailbox, uidl, pttl}.
  claimTake: `
local held = redis.call('HMGET', KEYS[1], 'state', 'id', 'mailbox', 'uidl')
if held[1] and held[2] ~= ARGV[1] then
  return { held[1], held[2], held[3], held[4], redis.call('PTTL', KEYS[1]) }
end
if held[1] == 'delivered' then return { 'mine' } end
redis.call('HSET', KEYS[1], 'state', 'pending', 'id', ARGV[1], 'mailbox', ARGV[2], 'uidl', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return { 'claimed' }`,

  // KEYS: claim. ARGV: id, mailbox, uidl, windowMs. After this copy's 2xx: the claim becomes delivered by
  // this copy for windowMs, unless a delivered claim is already there (its window is not stretched).
  claimConfirm: `
if redis.call('HGET', KEYS[1], 'state') == 'delivered' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'delivered', 'id', ARGV[1], 'mailbox', ARGV[2], 'uidl', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`,

  // KEYS: claim. ARGV: id. After this copy's attempt failed: its pending claim goes, so another copy may go.
  claimRelease: `
local held = redis.call('HMGET', KEYS[1], 'state', 'id')
if held[1] == 'pending' and held[2] == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,

  // KEYS: lock. ARGV: value, ttlMs. Compare-and-PEXPIRE: only the holder of the token extends the lock.
  lockRenew: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`,

  // KEYS: lock. ARGV: value. Compare-and-DEL: a late release never deletes the next holder's lock.
  lockRelease: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,

  // KEYS: lock. Value and remaining ms in one read, so they describe the same holder.
  lockHolder: `
local value = redis.call('GET', KEYS[1])
if not value then return false end
return { value, redis.call('PTTL', KEYS[1]) }`,
} as const;

export type ScriptName = keyof typeof SCRIPTS;
export type ScriptArg = string | number | Buffer;
export type RunScript = (name: ScriptName, keys: string[], args: ScriptArg[]) => Promise<unknown>;

type DefinedCommand = (numKeys: number, ...rest: ScriptArg[]) => Promise<unknown>;

const registered = new WeakSet<RedisClient>();

/** Registers every script on `redis` once and returns a caller; the number of keys is passed per call. */
export function scriptRunner(redis: RedisClient): RunScript {
  if (!registered.has(redis)) {
    for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(commandName(name), { lua });
    registered.add(redis);
  }
  const commands = redis as unknown as Record<string, DefinedCommand>;
  return (name, keys, args) => {
    const command = commands[commandName(name)]!;
    return command.call(redis, keys.length, ...keys, ...args);
  };
}

function commandName(name: string): string {
  return `pophook_${name}`;
}
