// One scenario's world: Dovecot with N mailboxes, a private redis-server with AOF, the verifying receiver,
// the POP3 proxy with its journal, a pophook config and the fleet. Mail goes in through addMail (seeded
// corpus, unique Message-IDs); settle() waits for the fleet to recover by itself; verify() checks the
// promise and returns the scenario's figures (see invariants.ts).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { type DovecotServer, startDovecot } from '../../helpers/dovecot.ts';
import { type CorpusMessage, seededRandom, smallCorpus } from '../../helpers/mail-corpus.ts';
import { type Receiver, startReceiver } from '../../helpers/receiver.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';
import { type Fleet, type FleetRole, startFleet } from './fleet.ts';
import { checkPromise, type Figures } from './invariants.ts';
import { createPop3Tap, type LineVerdict, type Pop3Event, type Pop3Journal } from './pop3-tap.ts';
import { figuresDir, scenarioSeed } from './seed.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

export interface WorldOptions {
  name: string;
  mailboxes: number;
  fleet?: Partial<Record<FleetRole, number>>;
  webhook?: Record<string, unknown>;
  delivery?: Record<string, unknown>;
  mailbox?: Record<string, unknown>;
  /** The config's `watchdog` section (default: pophook's own defaults). */
  watchdog?: Record<string, unknown>;
  /** The config's `http` section, e.g. `{ host: '127.0.0.1', port: 0 }` (default: none). */
  http?: Record<string, unknown>;
  /** Put a TCP proxy between the fleet and Redis (to freeze connections); see `redisLink`. */
  redisProxy?: boolean;
  /** Extra environment for every pophook process (NODE_OPTIONS…). */
  env?: NodeJS.ProcessEnv;
  /** The config's `storage` section (attachments by reference; default: none). */
  storage?: Record<string, unknown>;
  /** The mail addMail makes (default: smallCorpus, plain text without attachments). */
  corpus?: (count: number, seed: number) => CorpusMessage[];
  /**
   * A second verifying receiver with a secret of its own, configured as webhook `second` (mailboxes name it
   * in their routes, e.g. a fan-out to both): World.second.
   */
  secondReceiver?: boolean;
}

/** The proxy in front of Redis and the connections seen blocking on a queue (BZPOPMIN <prefix>:<queue>:…). */
export interface RedisLink {
  proxy: TcpProxy;
  blocking: Map<number, string>;
  /** Proxy connection id → the client's port (which process it is: see freezeProcess). */
  clientPorts: Map<number, number>;
}

export interface World {
  readonly name: string;
  readonly seed: number;
  readonly random: () => number;
  readonly dovecot: DovecotServer;
  readonly redis: RedisServer;
  readonly receiver: Receiver;
  /** The second receiver (webhook `second`) when asked for. */
  readonly second: Receiver | undefined;
  readonly proxy: TcpProxy;
  readonly journal: Pop3Journal;
  readonly redisLink: RedisLink | undefined;
  readonly fleet: Fleet;
  readonly users: string[];
  readonly configPath: string;
  /** Every message handed to Dovecot, with its user. */
  readonly added: Array<{ user: string; message: CorpusMessage }>;
  /** kill -9 of a pophook process. */
  kills: number;
  /** Other faults injected: Redis restarts and flushes, cuts, refusals, outages. */
  faults: number;
  /** Replaces the proxy's line policy (default: pass everything). */
  onPop3(decide: (event: Pop3Event) => LineVerdict): void;
  /** Adds `count` messages spread at random over the mailboxes. */
  addMail(count: number): Promise<void>;
  /** Waits until every message was answered 2xx and every mailbox is empty. */
  settle(timeoutMs: number): Promise<void>;
  /** Checks the promise and records the figures. */
  verify(): Promise<Figures>;
  stop(): Promise<void>;
}

const PASSWORD = 'fault-suite-pw';

export async function startWorld(options: WorldOptions): Promise<World> {
  const seed = scenarioSeed(options.name);
  const random = seededRandom(seed);
  const users = Array.from({ length: options.mailboxes }, (_, i) => `u${i}`);
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const secondSecret = `whsec_${randomBytes(32).toString('base64')}`;
  const [dovecot, redis, receiver, second] = await Promise.all([
    startDovecot({ users: Object.fromEntries(users.map((u) => [u, PASSWORD])) }),
    startRedisServer({ appendonly: true }),
    startReceiver({ secret }),
    options.secondReceiver ? startReceiver({ secret: secondSecret }) : undefined,
  ]);
  const journal: Pop3Journal = { deles: [], commits: [], sessions: 0 };
  let decide: (event: Pop3Event) => LineVerdict = () => 'pass';
  const proxy = await startTcpProxy({
    upstreamPort: dovecot.pop3Port,
    tap: createPop3Tap(journal, (event) => decide(event)),
  });
  const redisLink = options.redisProxy ? await startRedisLink(redis.port) : undefined;
  const redisUrl = redisLink ? `redis://127.0.0.1:${redisLink.proxy.port}` : redis.url;
  const dir = await mkdtemp(join(tmpdir(), 'pophook-fault-'));
  const configPath = join(dir, 'pophook.yml');
  const webhooks = {
    receiver: { url: receiver.url, secret },
    ...(second ? { second: { url: second.url, secret: secondSecret } } : {}),
  };
  await writeFile(configPath, stringify(fleetConfig(options, users, redisUrl, webhooks, proxy)));
  const fleet = startFleet(configPath, { scheduler: 1, poll: 1, deliver: 1, ...options.fleet }, options.env);
  await fleet.ready();

  const added: World['added'] = [];
  let batch = 0;
  const started = Date.now();
  const world: World = {
    name: options.name,
    seed,
    random,
    dovecot,
    redis,
    receiver,
    second,
    proxy,
    journal,
    redisLink,
    fleet,
    users,
    configPath,
    added,
    kills: 0,
    faults: 0,
    onPop3(next) {
      decide = next;
    },
    async addMail(count) {
      const corpus = (options.corpus ?? smallCorpus)(count, seed * 1000 + ++batch);
      const byUser = new Map<string, Buffer[]>();
      for (const message of corpus) {
        const user = users[Math.floor(random() * users.length)]!;
        added.push({ user, message });
        byUser.set(user, [...(byUser.get(user) ?? []), message.raw]);
      }
      for (const [user, raws] of byUser) await dovecot.addMessages(user, raws);
    },
    async settle(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const figures = checkPromise(world, 0);
        const left = await onServer(dovecot, users);
        if (figures.lost === 0 && left === 0) return;
        if (Date.now() > deadline) {
          await dumpForDebugging(world);
          const lost = world.added.filter((a) => !delivered(world, a.message.messageId)).slice(0, 5);
          throw new Error(
            `${options.name}: not settled after ${timeoutMs} ms: ${figures.lost} undelivered, ${left} on the ` +
              `server, ${figures.earlyDeletes} early DELEs; undelivered: ${lost.map((a) => `${a.user}:${a.message.messageId}:${describe(world, a.message.messageId)}`).join(' ')}`,
          );
        }
        await sleep(250);
      }
    },
    async verify() {
      const figures = checkPromise(world, Date.now() - started);
      figures.leftOnServer = await onServer(dovecot, users);
      await recordFigures(figures);
      return figures;
    },
    async stop() {
      await fleet.stop();
      await proxy.stop();
      await redisLink?.proxy.stop();
      await Promise.all([dovecot.stop(), redis.stop(), receiver.stop(), second?.stop()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return world;
}

async function startRedisLink(port: number): Promise<RedisLink> {
  const blocking = new Map<number, string>();
  const clientPorts = new Map<number, number>();
  const proxy = await startTcpProxy({
    upstreamPort: port,
    tap: (id, client) => {
      clientPorts.set(id, client.remotePort ?? 0);
      return {
        fromClient(chunk) {
          const text = chunk.toString('latin1');
          // The marker key ends `…:<queue>:marker` whatever the prefix layout (src/queue/layout.ts).
          const queue = /bzpopmin\r\n\$\d+\r\n\S*?:(poll|deliver(?:-\d+)?):marker\r\n/i.exec(text)?.[1];
          if (queue) blocking.set(id, queue);
          return { forward: chunk, next: 'continue' };
        },
        fromServer: (chunk) => ({ forward: chunk, next: 'continue' }),
      };
    },
  });
  return { proxy, blocking, clientPorts };
}

function attempts(world: World, messageId: string) {
  return world.receiver.deliveries.filter(
    (d) => (d.json as { messageId?: string } | undefined)?.messageId?.replace(/^<|>$/g, '') === messageId,
  );
}

/** Answered 2xx at least once. */
export function delivered(world: World, messageId: string): boolean {
  return attempts(world, messageId).some((d) => d.answered && typeof d.status === 'number' && d.status < 300);
}

/** Receiver attempts of one message, as status/answered, for failure messages. */
function describe(world: World, messageId: string): string {
  return (
    attempts(world, messageId)
      .map((d) => `${d.status}${d.answered ? '' : '?'}`)
      .join(',') || 'never POSTed'
  );
}

/** FAULT_DEBUG_DIR=…: on a failure, every log line, the POP3 journal and the receiver's record go there. */
async function dumpForDebugging(world: World): Promise<void> {
  const dir = process.env.FAULT_DEBUG_DIR;
  if (!dir) return;
  const deliveries = world.receiver.deliveries.map((d) => ({
    webhookId: d.webhookId,
    status: d.status,
    answered: d.answered,
    at: d.receivedAt.getTime(),
    ...(d.json as object),
    text: undefined,
    html: undefined,
    headers: undefined,
    attachments: undefined,
  }));
  const odd = world.receiver.deliveries
    .filter((d) => !(d.json as { messageId?: string } | undefined)?.messageId)
    .map((d) => d.body.toString('utf8'));
  const dump = {
    odd,
    added: world.added.map((a) => [a.user, a.message.messageId]),
    journal: world.journal,
    deliveries,
  };
  await writeFile(join(dir, `${world.name}.json`), JSON.stringify(dump));
  await writeFile(
    join(dir, `${world.name}.logs.jsonl`),
    world.fleet
      .logs()
      .map((l) => JSON.stringify(l))
      .join('\n'),
  );
}

async function onServer(dovecot: DovecotServer, users: string[]): Promise<number> {
  const counts = await Promise.all(users.map((u) => dovecot.countMessages(u)));
  return counts.reduce((a, b) => a + b, 0);
}

function fleetConfig(
  options: WorldOptions,
  users: string[],
  redisUrl: string,
  webhooks: Record<string, { url: string; secret: string }>,
  proxy: TcpProxy,
) {
  return {
    redis: { url: redisUrl, prefix: 'fault' },
    log: { level: 'info' },
    webhooks: Object.fromEntries(
      Object.entries(webhooks).map(([id, hook]) => [
        id,
        { ...hook, timeout: '2s', retryDelay: '200ms', retryMaxDelay: '2s', ...options.webhook },
      ]),
    ),
    delivery: { concurrency: 4, ...options.delivery },
    ...(options.watchdog ? { watchdog: options.watchdog } : {}),
    ...(options.http ? { http: options.http } : {}),
    ...(options.storage ? { storage: options.storage } : {}),
    mailboxes: Object.fromEntries(
      users.map((user) => [
        `m${user.slice(1)}`,
        {
          host: '127.0.0.1',
          port: proxy.port,
          // Plain text on loopback so the proxy can read the conversation; USER/PASS keeps every client
          // line a command (no SASL continuation lines).
          tls: 'none',
          allowPlaintextAuth: true,
          auth: 'user',
          username: user,
          password: PASSWORD,
          pollInterval: '1s',
          connectTimeout: '3s',
          commandTimeout: '5s',
          webhook: 'receiver',
          ...options.mailbox,
        },
      ]),
    ),
  };
}

async function recordFigures(figures: Figures): Promise<void> {
  const dir = figuresDir();
  if (dir) await writeFile(join(dir, `${figures.scenario}.json`), JSON.stringify(figures));
}
