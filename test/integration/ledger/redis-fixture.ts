// One private redis-server and client per test file, and a fresh key prefix per test.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';

export interface RedisFixture {
  server: RedisServer;
  redis: Redis;
  /** Opens another client (closed after the file). */
  client(): Redis;
}

export function useRedis(): RedisFixture {
  const fixture = { clients: [] as Redis[] } as unknown as RedisFixture & { clients: Redis[] };
  beforeAll(async () => {
    fixture.server = await startRedisServer();
    fixture.client = () => {
      const client = new Redis(fixture.server.url, { maxRetriesPerRequest: 1, lazyConnect: false });
      fixture.clients.push(client);
      return client;
    };
    fixture.redis = fixture.client();
  });
  afterAll(async () => {
    for (const client of fixture.clients) client.disconnect();
    await fixture.server?.stop();
  });
  return fixture;
}

export function uniquePrefix(): string {
  return `t${randomBytes(6).toString('hex')}`;
}
