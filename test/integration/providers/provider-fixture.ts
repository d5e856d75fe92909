// One private Redis and a Runtime for the provider and onboarding tests, and a fresh mailbox per test that
// points at a given POP3 server (USER/PASS over loopback).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { stringify } from 'yaml';
import { type MailboxConfig, parseConfig } from '../../../src/config/index.ts';
import { createRuntime, type Runtime } from '../../../src/runtime/runtime.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';

export interface ProviderFixture {
  rt: Runtime;
  redis: RedisServer;
  prefix: string;
  /** A new mailbox id on `port`, with the base settings and `extra` on top. */
  mailbox(port: number, extra?: Partial<MailboxConfig>): MailboxConfig;
}

export function useProviderRuntime(name: string): ProviderFixture {
  const fx = {} as ProviderFixture;
  let dir: string;
  let count = 0;
  beforeAll(async () => {
    fx.redis = await startRedisServer();
    dir = await mkdtemp(join(tmpdir(), `pophook-${name}-`));
    fx.prefix = `${name}${randomBytes(3).toString('hex')}`;
    const document = configDocument(fx.redis.url, fx.prefix, 1);
    const config = await parseConfig(stringify(document), { env: {}, baseDir: dir, sourceName: 'test' });
    fx.rt = await createRuntime(config, silentLogger);
    fx.mailbox = (port, extra = {}) => ({
      ...fx.rt.config.mailboxes.inbox!,
      id: `mb${++count}`,
      port,
      ...extra,
    });
  }, 30_000);
  afterAll(async () => {
    await fx.rt?.close();
    await fx.redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return fx;
}

/** The config file of these tests: one webhook, one mailbox `inbox` over loopback USER/PASS on `port`. */
export function configDocument(redisUrl: string, prefix: string, port: number, inbox: object = {}) {
  return {
    redis: { url: redisUrl, prefix },
    webhooks: {
      rx: { url: 'http://127.0.0.1:9/hook', secret: `whsec_${randomBytes(32).toString('base64')}` },
    },
    mailboxes: {
      inbox: {
        host: '127.0.0.1',
        port,
        tls: 'none',
        allowPlaintextAuth: true,
        username: 'alice',
        password: 'secret',
        webhook: 'rx',
        connectTimeout: '5s',
        commandTimeout: '5s',
        ...inbox,
      },
    },
  };
}
