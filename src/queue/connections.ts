// The one home of ioredis: connections for the roles BullMQ's production guide distinguishes.
// Workers block and must never give up on a command (maxRetriesPerRequest: null); producers and the
// poll session must learn at once that a write failed (enableOfflineQueue: false), so a message whose
// enqueue failed stays on the POP3 server instead of sitting in a client-side buffer.
import { Redis, type RedisOptions } from 'ioredis';

export type RedisRole = 'worker' | 'producer';
export type { Redis };

export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  const options: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, enableReadyCheck: true };
  return new Redis(url, { ...options, connectionName: `pophook-${role}`, lazyConnect: false, ...extra });
}

/** Resolves once the connection is ready; producers have no offline queue, so they must wait for it. */
export async function waitReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not ready after ${timeoutMs} ms (status ${redis.status})`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}
