// A private redis-server for integration tests: its own port, its own directory, stopped after the suite.
// Tests that restart or flush Redis must use one of these, never the machine's shared 6379.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.ts';

export interface RedisServerOptions {
  /** Turn AOF on (appendfsync always), to test restarts that keep data. */
  appendonly?: boolean;
  maxmemoryPolicy?: string;
  extraArgs?: string[];
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Stop (SIGTERM, or SIGKILL with `hard`) and start again on the same port and directory. */
  restart(options?: { hard?: boolean }): Promise<void>;
  /** An outage: stop (SIGTERM) and stay down, keeping port and directory, until resume(). */
  halt(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'pophook-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.appendonly ? 'yes' : 'no',
    '--appendfsync',
    'always',
    '--maxmemory-policy',
    options.maxmemoryPolicy ?? 'noeviction',
    '--protected-mode',
    'no',
    ...(options.extraArgs ?? []),
  ];
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    child = spawn('redis-server', args, { stdio: 'ignore' });
    await waitForPort(port, child);
  };
  const stopChild = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    async restart({ hard = false } = {}) {
      await stopChild(hard ? 'SIGKILL' : 'SIGTERM');
      await start();
    },
    halt: () => stopChild('SIGTERM'),
    async resume() {
      if (!child) await start();
    },
    async stop() {
      await stopChild('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`redis-server did not listen on ${port} within 10 s`);
}
