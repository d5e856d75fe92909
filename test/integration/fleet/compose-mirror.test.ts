// The compose fleet, natively: docker-compose.yml's pophook services (scheduler ×1, worker × its replicas)
// run with their own commands and environment (test/helpers/compose-mirror.ts) against Dovecot, a private
// Redis and a verifying receiver; 100 messages are delivered exactly once and deleted, and SIGTERM drains
// every process to exit code 0.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeProcesses,
  type MirroredProcess,
  type PophookService,
  pophookServices,
  resolveCompose,
  startServices,
  writeMirrorConfig,
} from '../../helpers/compose-mirror.ts';
import { type DovecotServer, startDovecot } from '../../helpers/dovecot.ts';
import { smallCorpus } from '../../helpers/mail-corpus.ts';
import type { PophookProcess } from '../../helpers/pophook-process.ts';
import { type Receiver, startReceiver } from '../../helpers/receiver.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';
import { waitUntil as waitFor } from '../../helpers/wait.ts';

const COMPOSE_FILE = fileURLToPath(new URL('../../../docker-compose.yml', import.meta.url));
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
// deploy/pophook.yml logs in as `demo`; the mirror keeps the user and moves only host, port and secrets.
const USER = 'demo';
const PASSWORD = `mirror-${randomBytes(8).toString('hex')}`;
const MESSAGES = 100;
// About 11 s on an idle 2-core machine; the margin is for a machine busy with other suites.
const WAIT_MS = 45_000;

let dovecot: DovecotServer;
let redis: RedisServer;
let receiver: Receiver;
let dir: string;
let services: PophookService[];
let fleet: MirroredProcess[] = [];

beforeAll(async () => {
  [dovecot, redis, receiver, dir, services] = await Promise.all([
    startDovecot({ users: { [USER]: PASSWORD } }),
    startRedisServer({ appendonly: true }),
    startReceiver({ secret: SECRET }),
    mkdtemp(join(tmpdir(), 'pophook-mirror-')),
    resolveCompose(COMPOSE_FILE).then(pophookServices),
  ]);
});

afterAll(async () => {
  await Promise.all(fleet.map((p) => p.process.stop('SIGKILL')));
  await Promise.all([dovecot?.stop(), redis?.stop(), receiver?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

function waitUntil(what: string, predicate: () => Promise<boolean> | boolean, timeoutMs: number) {
  const processes = () =>
    fleet.map((p): [string, PophookProcess] => [`${p.service}#${p.replica}`, p.process]);
  return waitFor(what, predicate, timeoutMs, { context: () => describeProcesses(processes()) });
}

describe('the compose fleet as native processes', () => {
  it('reads a scheduler and a replicated worker from docker-compose.yml', () => {
    const byName = new Map(services.map((s) => [s.name, s]));
    expect([...byName.keys()].sort()).toEqual(['scheduler', 'worker']);
    expect(byName.get('scheduler')?.replicas).toBe(1);
    expect(byName.get('worker')?.replicas).toBeGreaterThanOrEqual(2);
    for (const service of services) {
      expect(service.config.source).toMatch(/deploy\/pophook\.yml$/);
      expect(service.environment.REDIS_URL).toBeDefined();
    }
  });

  it('delivers 100 messages exactly once, deletes them, and every process exits 0 on SIGTERM', async () => {
    const configPath = await writeMirrorConfig({
      source: services[0]!.config.source,
      dir,
      declaredSecrets: services[0]!.secrets,
      secrets: { webhook_secret: SECRET, pop3_password: PASSWORD },
      prefix: `mirror${randomBytes(4).toString('hex')}`,
      mailboxes: { demo: { host: '127.0.0.1', port: dovecot.pop3Port } },
      webhooks: { demo: { url: receiver.url } },
    });
    await dovecot.addMessages(
      USER,
      smallCorpus(MESSAGES, 5).map((m) => m.raw),
    );
    fleet = startServices(services, { configPath, redisUrl: redis.url });
    const replicas = services.reduce((sum, s) => sum + s.replicas, 0);
    expect(fleet).toHaveLength(replicas);

    await waitUntil(
      `${MESSAGES} deliveries and an empty mailbox`,
      async () =>
        receiver.deliveries.filter((d) => d.status === 200).length >= MESSAGES &&
        (await dovecot.countMessages(USER)) === 0,
      WAIT_MS,
    );

    expect(receiver.deliveries.every((d) => d.verified && d.status === 200)).toBe(true);
    const ids = receiver.deliveries.map((d) => d.webhookId);
    expect(ids).toHaveLength(MESSAGES);
    expect(new Set(ids).size).toBe(MESSAGES);
    for (const { service, process } of fleet) {
      const started = process.logs.find((l) => l.msg === 'pophook started');
      expect(started?.roles, service).toEqual(service === 'scheduler' ? ['scheduler'] : ['poll', 'deliver']);
    }
    const codes = await Promise.all(fleet.map((p) => p.process.stop('SIGTERM')));
    expect(codes).toEqual(fleet.map(() => 0));
  }, 60_000);
});
