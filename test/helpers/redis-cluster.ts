// A private Redis Cluster of N masters (no replicas) on loopback, for integration tests: N redis-servers
// with cluster mode on (each in its own directory, with a free client port and a free cluster-bus port),
// joined by `redis-cli --cluster create`, ready once every node reports cluster_state:ok. With `acl`, the
// default user is off and every client (pophook, redis-cli, the helper itself) logs in as that ACL user.
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './ports.ts';
import { type RedisServer, startRedisServer } from './redis-server.ts';

const run = promisify(execFile);
const READY_TIMEOUT_MS = 15_000;

export interface RedisClusterNode {
  readonly port: number;
  readonly url: string;
}

export interface RedisClusterOptions {
  masters?: number;
  /** An ACL user with every right; the `default` user is switched off. */
  acl?: { user: string; password: string };
}

export interface RedisCluster {
  /** A seed URL (the first master), with the ACL user's credentials if any; clients discover the others. */
  readonly url: string;
  readonly nodes: readonly RedisClusterNode[];
  /** DBSIZE of every master, in node order. */
  dbsizes(): Promise<number[]>;
  /** Every key of every master (SCAN), in node order. */
  keysByNode(): Promise<string[][]>;
  /** Stops every node and removes their directories. Idempotent. */
  stop(): Promise<void>;
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const { masters = 3, acl } = options;
  const auth = acl ? `${encodeURIComponent(acl.user)}:${encodeURIComponent(acl.password)}@` : '';
  const urlOf = (port: number) => `redis://${auth}127.0.0.1:${port}`;
  const servers: RedisServer[] = [];
  const admins: Redis[] = [];
  const stop = async () => {
    for (const admin of admins.splice(0)) admin.disconnect();
    await Promise.allSettled(servers.splice(0).map((server) => server.stop()));
  };
  try {
    for (let i = 0; i < masters; i += 1) {
      // The cluster bus defaults to port+10000, which may be taken or past 65535: give it its own.
      const busPort = await freePort();
      const extraArgs = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'];
      extraArgs.push('--cluster-port', String(busPort), '--cluster-announce-ip', '127.0.0.1');
      if (acl) extraArgs.push('--user', acl.user, 'on', `>${acl.password}`, '~*', '&*', '+@all');
      if (acl) extraArgs.push('--user', 'default', 'off');
      servers.push(await startRedisServer({ extraArgs }));
    }
    const addresses = servers.map((server) => `127.0.0.1:${server.port}`);
    const login = acl ? ['--user', acl.user, '--pass', acl.password, '--no-auth-warning'] : [];
    const create = ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'];
    await run('redis-cli', [...login, ...create], { timeout: READY_TIMEOUT_MS });
    admins.push(...servers.map((server) => new Redis(urlOf(server.port))));
    await waitForClusterOk(admins);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: urlOf(servers[0]!.port),
    nodes: servers.map((server) => ({ port: server.port, url: urlOf(server.port) })),
    dbsizes: () => Promise.all(admins.map((admin) => admin.dbsize())),
    keysByNode: () => Promise.all(admins.map(scanAll)),
    stop,
  };
}

/** Every node must agree: a client may ask any of them for the slot map. */
async function waitForClusterOk(admins: Redis[]): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const infos = await Promise.all(admins.map((admin) => admin.call('CLUSTER', 'INFO')));
    if (infos.every((info) => String(info).includes('cluster_state:ok'))) return;
    if (Date.now() > deadline) throw new Error('the Redis Cluster did not reach cluster_state:ok');
    await sleep(100);
  }
}

async function scanAll(admin: Redis): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await admin.scan(cursor, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}
