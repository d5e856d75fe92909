// The one home of ioredis: connections for the roles BullMQ's production guide distinguishes, to one Redis
// or to a Redis Cluster. Workers block and must never give up on a command (maxRetriesPerRequest: null);
// producers and the poll session must learn at once that a write failed (enableOfflineQueue: false), so a
// message whose enqueue failed stays on the POP3 server instead of sitting in a client-side buffer.
//
// A cluster is reached through the configured URL as its seed node; ioredis learns the other nodes from
// CLUSTER SLOTS. The URL's user, password and TLS (rediss://) apply to every node, since each node is its
// own connection and ioredis gives the seed's URL only to the seed.
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';

export type RedisRole = 'worker' | 'producer';
/** What pophook talks to: one Redis, or a Redis Cluster routing each key to its slot's master. */
export type RedisClient = Redis | Cluster;
export type { Cluster, Redis };

export interface RedisTarget {
  /** redis:// or rediss:// URL (the seed node when `cluster` is set). */
  readonly url: string;
  readonly cluster: boolean;
  /** Extra trusted CA certificates (PEM) for rediss://. */
  readonly caPem?: string;
}

export interface ConnectOptions {
  /** Give up instead of reconnecting (one-shot checks such as `pophook check`). */
  noReconnect?: boolean;
}

export type ConnectionPlan =
  | { kind: 'single'; url: string; options: RedisOptions }
  | { kind: 'cluster'; seeds: Array<{ host: string; port: number }>; options: ClusterOptions };

/** The connection pophook would open, as data: what the unit tests check, and what createRedis opens. */
export function connectionPlan(
  target: RedisTarget,
  role: RedisRole,
  opts: ConnectOptions = {},
): ConnectionPlan {
  const perRole: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false };
  const common: RedisOptions = { connectionName: `pophook-${role}`, enableReadyCheck: true };
  const url = new URL(target.url);
  const tls =
    url.protocol === 'rediss:' ? { tls: target.caPem === undefined ? {} : { ca: target.caPem } } : {};
  if (!target.cluster) {
    const reconnect: RedisOptions = opts.noReconnect ? { retryStrategy: () => null } : {};
    return { kind: 'single', url: target.url, options: { ...perRole, ...common, ...reconnect, ...tls } };
  }
  const nodeOptions: RedisOptions = {
    ...common,
    maxRetriesPerRequest: perRole.maxRetriesPerRequest ?? null,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    // Nodes are announced by address or host name; TLS then checks the certificate against that name.
    ...tls,
  };
  const options: ClusterOptions = {
    redisOptions: nodeOptions,
    // Cluster-wide: a producer's command fails while the cluster is not ready instead of waiting.
    enableOfflineQueue: role === 'worker',
    enableReadyCheck: true,
    // With TLS, hand announced host names to tls.connect unresolved so the certificate check sees them.
    ...(url.protocol === 'rediss:' ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
    ...(opts.noReconnect ? { clusterRetryStrategy: () => null } : {}),
  };
  const port = url.port === '' ? 6379 : Number(url.port);
  return { kind: 'cluster', seeds: [{ host: url.hostname.replace(/^\[|\]$/g, ''), port }], options };
}

/** A URL string always means one Redis (tests, benches); a RedisTarget may name a cluster. */
export function createRedis(url: string, role: RedisRole, opts?: ConnectOptions): Redis;
export function createRedis(target: RedisTarget, role: RedisRole, opts?: ConnectOptions): RedisClient;
export function createRedis(
  target: string | RedisTarget,
  role: RedisRole,
  opts: ConnectOptions = {},
): RedisClient {
  const plan = connectionPlan(
    typeof target === 'string' ? { url: target, cluster: false } : target,
    role,
    opts,
  );
  return plan.kind === 'single' ? new Redis(plan.url, plan.options) : new Cluster(plan.seeds, plan.options);
}

export interface WaitReadyOptions {
  /** Give up after this long (default 10 s; Infinity waits for as long as it takes). */
  timeoutMs?: number;
  /** Give up at the first connection error instead of waiting for a reconnect (one-shot commands). */
  failOnError?: boolean;
  signal?: AbortSignal;
}

/**
 * Resolves once the connection is ready; producers have no offline queue, so they must wait for it. Rejects
 * with the last connection error when the connection ends (no reconnect), on timeout, or on abort.
 */
export async function waitReady(redis: RedisClient, options: WaitReadyOptions | number = {}): Promise<void> {
  const {
    timeoutMs = 10_000,
    failOnError = false,
    signal,
  } = typeof options === 'number' ? { timeoutMs: options } : options;
  if (redis.status === 'ready') return;
  signal?.throwIfAborted();
  await new Promise<void>((resolve, reject) => {
    let lastError: Error | undefined;
    const fail = (why: string) => {
      cleanup();
      reject(new Error(lastError ? `${why}: ${lastError.message}` : `${why} (status ${redis.status})`));
    };
    const timer =
      timeoutMs === Infinity
        ? undefined
        : setTimeout(() => fail(`Redis not ready after ${timeoutMs} ms`), timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onError = (error: Error) => {
      lastError = error;
      if (failOnError) fail('Redis not reachable');
    };
    const onEnd = () => fail('Redis connection closed');
    const onAbort = () => {
      cleanup();
      reject(signal?.reason);
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      redis.off('end', onEnd);
      signal?.removeEventListener('abort', onAbort);
    };
    redis.on('ready', onReady);
    redis.on('error', onError);
    redis.on('end', onEnd);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
