// `npx pophook run` stopped with SIGTERM stops pophook: npx runs the bin through `sh -c` and forwards the
// signal to that shell only, which dies without passing it on. Spawned for real from the checkout; the
// node process (its pid from its own log lines) must be gone soon after the SIGTERM to npx, both while it
// runs and while it waits for Redis at start.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { idleConfig } from '../../helpers/pophook-process.ts';
import { freePort } from '../../helpers/ports.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';
import { waitUntil } from '../../helpers/wait.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
let redis: RedisServer;
let dir: string;
const pids: number[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  dir = await mkdtemp(join(tmpdir(), 'pophook-npx-'));
});

afterEach(() => {
  for (const pid of pids.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

afterAll(async () => {
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function config(redisUrl: string): Promise<string> {
  const path = join(dir, `pophook-${pids.length}.yml`);
  await writeFile(path, stringify(idleConfig(redisUrl, `npx${Date.now()}`)));
  return path;
}

/** Starts `npx pophook run`; resolves with npx and the pid of the pophook node process once it logs `msg`. */
async function npxRun(path: string, event: string): Promise<{ npx: ChildProcess; pid: number }> {
  const npx = spawn('npx', ['pophook', 'run', '--config', path], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  npx.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  npx.stderr?.resume();
  let pid = 0;
  await waitUntil(
    `pophook logs ${event}`,
    () => {
      const line = out.split('\n').find((l) => l.includes(event));
      if (line) pid = (JSON.parse(line) as { pid: number }).pid;
      return pid !== 0;
    },
    60_000,
    { context: () => out.slice(-500) },
  );
  pids.push(pid);
  return { npx, pid };
}

describe('npx pophook run and SIGTERM', () => {
  it('SIGTERM to npx stops the running pophook (no orphan keeps polling)', async () => {
    const { npx, pid } = await npxRun(await config(redis.url), 'pophook started');
    expect(pid).not.toBe(npx.pid);
    npx.kill('SIGTERM');
    await waitUntil('the pophook process is gone', () => !alive(pid), 15_000);
  }, 90_000);

  it('also while it waits for Redis at start', async () => {
    const { npx, pid } = await npxRun(await config(`redis://127.0.0.1:${await freePort()}`), 'redis-down');
    npx.kill('SIGTERM');
    await waitUntil('the pophook process is gone', () => !alive(pid), 15_000);
  }, 90_000);
});
