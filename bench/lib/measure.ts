// Timing helpers shared by the bench sections: medians, in-process CPU, and a child process run under
// GNU time(1) so a peer's own CPU seconds (user + system, its children included: fetchmail's MDAs) count.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Sample {
  seconds: number;
  cpuSeconds: number;
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Runs `fn` in this process; CPU is this process's (all threads), so keep the rest of the process idle. */
export async function timeInProcess<T>(fn: () => Promise<T>): Promise<Sample & { value: T }> {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const value = await fn();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6, value };
}

export interface ChildRun extends Sample {
  code: number | null;
  stdout: string;
  stderr: string;
  maxRssKb: number;
}

/** `command args` under /usr/bin/time: wall seconds from here, CPU and max RSS from time(1)'s rusage. */
export async function timeChild(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<ChildRun> {
  const dir = await mkdtemp(join(tmpdir(), 'pophook-bench-time-'));
  const out = join(dir, 'time');
  try {
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', out, command, ...args], {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearTimeout(timer);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const fields = (await readFile(out, 'utf8')).trim().split('\n').at(-1)!.split(' ').map(Number);
    const [user = 0, system = 0, maxRssKb = 0] = fields;
    return { seconds, cpuSeconds: user + system, maxRssKb, code, stdout, stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
