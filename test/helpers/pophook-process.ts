// Runs the real `pophook` command (bin/pophook.js) as a child process, the way a user or a compose
// service does, and collects its JSON log lines; writes config files for it.
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const BIN = fileURLToPath(new URL('../../bin/pophook.js', import.meta.url));

/** The bin's `#!/usr/bin/env -S NAME=value … node --flag …` line: what running the command itself sets. */
const BIN_SHEBANG = (() => {
  const shebang = readFileSync(BIN, 'utf8').split('\n', 1)[0]!;
  // Without -S, env would look for a program named "node --max-semi-space-size=1 …": refuse that line here.
  const parts = /^#!\/usr\/bin\/env -S((?: [A-Z_]+=\S+)*) node((?: --[\w-]+(?:=\S+)?)*)$/.exec(shebang);
  if (!parts) throw new Error(`bin/pophook.js: unexpected first line ${shebang}`);
  const words = (text: string | undefined) => (text ?? '').split(' ').filter(Boolean);
  const env = Object.fromEntries(words(parts[1]).map((word) => word.split('=', 2) as [string, string]));
  return { env, flags: words(parts[2]) };
})();

/** The environment the bin's first line sets (glibc's malloc settings): the process reads it as it starts. */
export const BIN_ENV: Readonly<Record<string, string>> = BIN_SHEBANG.env;
/** The node flags on the bin's first line. */
export const BIN_NODE_FLAGS: string[] = BIN_SHEBANG.flags;

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface PophookProcess {
  readonly child: ChildProcess;
  readonly logs: LogLine[];
  /** Everything the process wrote that was not a JSON log line (stderr included). */
  readonly text: string[];
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM (or the given signal) and the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/**
 * `cwd`: where ./pophook.yml would be found (the repository root by default). `nodeFlags` go after the
 * shebang's (the benchmark tries V8 flags with them; a later flag wins over an earlier one).
 */
export function startPophook(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  cwd?: string,
  nodeFlags: readonly string[] = [],
): PophookProcess {
  // The test's own node binary, with the flags the shebang gives the command.
  const child = spawn(process.execPath, [...BIN_NODE_FLAGS, ...nodeFlags, BIN, ...args], {
    env: { ...process.env, ...BIN_ENV, LOG_LEVEL: 'info', ...env },
    ...(cwd ? { cwd } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const text: string[] = [];
  const waiters = new Set<() => void>();
  // Every line the process prints, timestamped, to <dir>/<pid>.log: V8's traces (--trace-opt, --trace-gc-nvp
  // through the bench's --node-flags) beside the log lines that say where the run was (bench/README.md).
  const keep = process.env.POPHOOK_SERVICE_OUTPUT;
  if (keep) mkdirSync(keep, { recursive: true });
  const kept = keep ? join(keep, `${child.pid}.log`) : undefined;
  const collect = (chunk: Buffer, carry: { rest: string }) => {
    const lines = (carry.rest + chunk.toString('utf8')).split('\n');
    carry.rest = lines.pop() ?? '';
    if (kept) appendFileSync(kept, lines.map((line) => `${Date.now()} ${line}\n`).join(''));
    for (const line of lines) {
      if (line.startsWith('{')) {
        try {
          logs.push(JSON.parse(line) as LogLine);
          continue;
        } catch {
          // not a log line after all
        }
      }
      if (line.trim()) text.push(line);
    }
    for (const wake of waiters) wake();
  };
  const out = { rest: '' };
  const err = { rest: '' };
  child.stdout?.on('data', (chunk: Buffer) => collect(chunk, out));
  child.stderr?.on('data', (chunk: Buffer) => collect(chunk, err));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  return {
    child,
    logs,
    text,
    exited,
    waitForLog(predicate, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = logs.find(predicate);
          if (!found) return;
          cleanup();
          resolve(found);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching log line within ${timeoutMs} ms; last lines: ${tail(logs, text)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

function tail(logs: LogLine[], text: string[]): string {
  return JSON.stringify([...logs.slice(-5).map((l) => l.msg), ...text.slice(-5)]);
}

export interface TestConfigInput {
  dir: string;
  redisUrl: string;
  prefix: string;
  webhookUrl: string;
  secret: string;
  pop3: { port: number; caPem: string; username: string; password: string; tls?: 'starttls' | 'implicit' };
  mailbox?: Record<string, unknown>;
  webhook?: Record<string, unknown>;
  /** More webhooks beside `receiver` (routes name them). */
  webhooks?: Record<string, Record<string, unknown>>;
  redis?: Record<string, unknown>;
  delivery?: Record<string, unknown>;
  /** More top-level sections (http, watchdog…). */
  extra?: Record<string, unknown>;
}

/** Writes a pophook.yml for one mailbox and one webhook (overrides merged in) and returns its path. */
export async function writeTestConfig(input: TestConfigInput): Promise<string> {
  const caPath = join(input.dir, 'ca.pem');
  await writeFile(caPath, input.pop3.caPem);
  const config = {
    ...input.extra,
    redis: { url: input.redisUrl, prefix: input.prefix, ...input.redis },
    webhooks: {
      receiver: { url: input.webhookUrl, secret: input.secret, timeout: '5s', ...input.webhook },
      ...input.webhooks,
    },
    delivery: { concurrency: 2, ...input.delivery },
    mailboxes: {
      inbox: {
        host: '127.0.0.1',
        port: input.pop3.port,
        tls: input.pop3.tls ?? 'starttls',
        ca: caPath,
        username: input.pop3.username,
        password: input.pop3.password,
        pollInterval: '1s',
        webhook: 'receiver',
        ...input.mailbox,
      },
    },
  };
  const path = join(input.dir, 'pophook.yml');
  await writeFile(path, stringify(config));
  return path;
}

/** A config whose one mailbox and webhook point at closed ports: enough for a process that only starts. */
export function idleConfig(redisUrl: string, prefix: string): Record<string, unknown> {
  return {
    redis: { url: redisUrl, prefix },
    webhooks: { hook: { url: 'http://127.0.0.1:9/x', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' } },
    mailboxes: {
      box: {
        host: '127.0.0.1',
        port: 9,
        tls: 'none',
        username: 'u',
        password: 'p',
        allowPlaintextAuth: true,
        webhook: 'hook',
        pollInterval: '1h',
      },
    },
  };
}
