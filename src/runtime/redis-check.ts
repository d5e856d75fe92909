// Start-up check of the Redis settings the promise leans on (DESIGN.md "Known traps"): eviction would
// silently drop ledger entries, raw messages and jobs; without persistence a restart forgets them. On a
// Redis Cluster every master holds part of the data, so every master is asked.
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../telemetry/logger.ts';

export interface RedisPolicy {
  maxmemoryPolicy: string | undefined;
  appendonly: string | undefined;
}

/** One node's settings, or for a cluster each setting over all masters (`a/b` when they differ). */
export async function readRedisPolicy(redis: Redis | Cluster): Promise<RedisPolicy> {
  if (!redis.isCluster) return readNodePolicy(redis as Redis);
  const masters = await Promise.all((redis as Cluster).nodes('master').map(readNodePolicy));
  const merge = (values: Array<string | undefined>) => {
    const distinct = [...new Set(values)];
    return distinct.length === 1 ? distinct[0] : distinct.map((v) => v ?? 'unknown').join('/');
  };
  return {
    maxmemoryPolicy: merge(masters.map((m) => m.maxmemoryPolicy)),
    appendonly: merge(masters.map((m) => m.appendonly)),
  };
}

async function readNodePolicy(redis: Redis): Promise<RedisPolicy> {
  const get = async (name: string): Promise<string | undefined> => {
    try {
      const reply = (await redis.config('GET', name)) as string[];
      return reply[1];
    } catch {
      // Managed Redis often disables CONFIG: then we can't tell, and say so.
      return undefined;
    }
  };
  return { maxmemoryPolicy: await get('maxmemory-policy'), appendonly: await get('appendonly') };
}

/** Logs loudly what is unsafe; returns the problems found (empty when all is well). */
export async function checkRedisPolicy(redis: Redis | Cluster, logger: Logger): Promise<string[]> {
  const policy = await readRedisPolicy(redis);
  const problems: string[] = [];
  if (policy.maxmemoryPolicy !== 'noeviction') {
    problems.push(
      `maxmemory-policy is ${policy.maxmemoryPolicy ?? 'unknown'}: set it to noeviction, or Redis may evict queued messages`,
    );
  }
  if (policy.appendonly !== 'yes') {
    problems.push(
      `appendonly is ${policy.appendonly ?? 'unknown'}: turn AOF on, or a Redis restart forgets queued work (the POP3 server keeps the mail, so it is fetched again)`,
    );
  }
  for (const problem of problems) logger.warn({ redis: 'policy' }, `UNSAFE REDIS SETTING: ${problem}`);
  return problems;
}
