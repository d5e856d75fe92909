// Bench section: end to end. N small messages (6,000 by default) in Dovecot → the real `pophook run` process,
// compiled (dist/, what users run), at the config's default concurrency and parse threads (POP3 → Redis → parse thread → signed POST to
// a local verifying receiver → 2xx → DELE in the next session). Measured on the pophook process, every
// thread counted (/proc/<pid>/stat): its start-up CPU (logged with `pophook started`), then the steady state,
// from the first third of the messages accepted to the last: msg/s and CPU per message; its peak RSS
// (VmHWM); Redis commands per message (INFO commandstats delta, the whole run); syscalls per message in a
// separate run under `strace -f -c` when strace is installed. Against mailparser alone on the same bytes in
// this process (simpleParser with its defaults; one core, one message after another, warm: rate and CPU per
// message), and a user's usual
// script, fetchmail with a curl MDA posting each message (on at most 500 messages: it is slow).
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { createRedis, type Redis, waitReady } from '../src/queue/connections.ts';
import type { DovecotServer } from '../test/helpers/dovecot.ts';
import { smallCorpus } from '../test/helpers/mail-corpus.ts';
import type { Receiver } from '../test/helpers/receiver.ts';
import { waitUntil } from '../test/helpers/wait.ts';
import { median } from './lib/measure.ts';
import { runPeer } from './lib/peers.ts';
import {
  machineCpuSeconds,
  newPrefix,
  procCpuSeconds,
  procStatusBytes,
  procThreadCpuSeconds,
  startService,
  writeBenchConfig,
} from './lib/pipeline.ts';
import { BENCH_PASSWORD, BENCH_USER } from './retrieval.ts';

export interface EndToEndRow {
  pipeline: string;
  runs: number;
  messages: number;
  /** Steady-state messages per second (pophook: after the first third; mailparser: a warm pass). */
  messagesPerSecond: number;
  /** Steady-state CPU per message, every thread of the process, in milliseconds. */
  cpuMsPerMessage?: number;
  /** messages/s over mailparser alone on one core. */
  ratioToMailparser?: number;
  /** CPU per message over mailparser alone's. */
  cpuRatioToMailparser?: number;
  /** messages/s over fetchmail + curl. */
  ratioToFetchmailCurl?: number;
  /** The steady state's CPU ms per message: the main thread, the parse thread, every other thread. */
  threadCpuMsPerMessage?: ThreadSplit;
  /** CPU of every thread from exec to `pophook started`, milliseconds. */
  startupCpuMs?: number;
  /** VmHWM at the end of the run. */
  peakRssBytes?: number;
  /** Redis commands per message, the whole run (INFO commandstats). */
  redisCommandsPerMessage?: number;
  /** System calls per message of the pophook process (strace -f -c), when strace is installed. */
  syscallsPerMessage?: number;
  /**
   * The steady state's CPU per message of everything on the machine but pophook (Dovecot, Redis, the
   * verifying receiver, this benchmark), from /proc/stat, and the share of all cores busy meanwhile.
   */
  restCpuMsPerMessage?: number;
  restSplit?: RestSplit;
  machineBusyShare?: number;
  /** Seconds from `pophook started` to the last 2xx and to an empty mailbox. */
  secondsTo2xx?: number;
  secondsToEmpty?: number;
}

/** The rest's CPU ms per message: the Redis server, this process (the verifying receiver), Dovecot and all else. */
export interface RestSplit {
  redis: number;
  benchmark: number;
  dovecotAndOther: number;
}

export interface EndToEndSetup {
  dovecot: DovecotServer;
  receiver: Receiver;
  redisUrl: string;
  count: number;
  runs: number;
  log: (line: string) => void;
  /** Node flags after the bin's (`--node-flags`), in every pophook run of the section. */
  nodeFlags: readonly string[];
  /** Where one more run writes its allocation profile (`--alloc-profile`), or undefined for none. */
  allocProfileDir: string | undefined;
}

interface PophookSample {
  startupCpuMs: number;
  steadyRate: number;
  steadyCpuMsPerMessage: number;
  /** The steady state's CPU per message by thread: main, the busiest other (the parse thread), the rest. */
  threadCpuMsPerMessage: ThreadSplit;
  restCpuMsPerMessage: number;
  restSplit: RestSplit;
  machineBusyShare: number;
  peakRssBytes: number;
  redisCommands: number;
  secondsTo2xx: number;
  secondsToEmpty: number;
}

/** delivery.concurrency's default (src/config/schema.ts); parse threads stay at theirs (one). */
const DELIVER_CONCURRENCY = 8;
const FETCHMAIL_MESSAGES = 500;
const STRACE_MESSAGES = 1000;
const ALLOC_SAMPLER = new URL('./lib/alloc-sampler.cjs', import.meta.url).pathname;

export interface ThreadSplit {
  main: number;
  busiest: number;
  rest: number;
}

/** CPU per message of each thread over the steady state (threads that ended in between count in `rest`). */
function splitByThread(
  pid: number,
  from: { cpu: number; threads: Map<number, number> },
  to: { cpu: number; threads: Map<number, number> },
  messages: number,
): ThreadSplit {
  const used = (tid: number) => (to.threads.get(tid) ?? 0) - (from.threads.get(tid) ?? 0);
  const main = used(pid);
  const others = [...to.threads.keys()].filter((tid) => tid !== pid).map(used);
  const busiest = Math.max(0, ...others);
  const perMessage = (seconds: number) => (seconds * 1000) / messages;
  return {
    main: perMessage(main),
    busiest: perMessage(busiest),
    rest: perMessage(to.cpu - from.cpu - main - busiest),
  };
}

const ms = (value: number) => value.toFixed(2);
const accepted = (receiver: Receiver) => receiver.acceptedCount();

async function redisCommandCalls(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  let calls = 0;
  for (const match of info.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) calls += Number(match[1]);
  return calls;
}

/** CPU seconds spent so far by every core (busy and all), the Redis server and this process. */
interface MachineCpu {
  busy: number;
  all: number;
  redis: number;
  benchmark: number;
}

async function machineCpu(redis: Redis): Promise<MachineCpu> {
  const info = await redis.info('cpu');
  const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  const own = process.cpuUsage();
  return {
    ...(await machineCpuSeconds()),
    redis: seconds('used_cpu_sys') + seconds('used_cpu_user'),
    benchmark: (own.user + own.system) / 1e6,
  };
}

/** The rest's CPU per message between two snapshots, pophook's `pophookSeconds` taken out. */
function restOf(from: MachineCpu, to: MachineCpu, pophookSeconds: number, messages: number) {
  const perMessage = (seconds: number) => (seconds * 1000) / messages;
  const busy = to.busy - from.busy;
  const redis = to.redis - from.redis;
  const benchmark = to.benchmark - from.benchmark;
  return {
    restCpuMsPerMessage: perMessage(busy - pophookSeconds),
    restSplit: {
      redis: perMessage(redis),
      benchmark: perMessage(benchmark),
      dovecotAndOther: perMessage(busy - pophookSeconds - redis - benchmark),
    },
    machineBusyShare: busy / (to.all - from.all),
  };
}

/** Starts `pophook run` on `raws` in Dovecot; `during` runs once it started, with its pid. */
async function withPophookRun<T>(
  s: EndToEndSetup,
  raws: Buffer[],
  during: (pid: number, startupCpuMs: number) => Promise<T>,
  extra: { nodeFlags?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<T> {
  await s.dovecot.clearMailbox(BENCH_USER);
  await s.dovecot.addMessages(BENCH_USER, raws);
  s.receiver.clear();
  await s.receiver.setRespond((request) => (request.verified ? 200 : 401));
  const dir = await mkdtemp(join(tmpdir(), 'pophook-bench-e2e-'));
  const path = await writeBenchConfig({
    dir,
    redisUrl: s.redisUrl,
    prefix: newPrefix(),
    webhookUrl: s.receiver.url,
    dovecot: s.dovecot,
    concurrency: DELIVER_CONCURRENCY,
  });
  const child = await startService(['run', '--config', path], {
    nodeFlags: [...s.nodeFlags, ...(extra.nodeFlags ?? [])],
    env: extra.env ?? {},
  });
  try {
    const started = child.logs.find((line) => line.msg === 'pophook started');
    return await during(child.child.pid!, Number(started?.startupCpuMs));
  } finally {
    await child.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function pophookRun(s: EndToEndSetup, raws: Buffer[], redis: Redis): Promise<PophookSample> {
  const commandsBefore = await redisCommandCalls(redis);
  return withPophookRun(s, raws, async (pid, startupCpuMs) => {
    const started = performance.now();
    const third = Math.ceil(raws.length / 3);
    let steadyFrom:
      | { at: number; cpu: number; threads: Map<number, number>; machine: MachineCpu }
      | undefined;
    // Looks every 10 ms: the wait is the measurement.
    const poll = { intervalMs: 10 };
    await waitUntil(
      'every delivery',
      async () => {
        const done = accepted(s.receiver);
        if (steadyFrom === undefined && done >= third)
          steadyFrom = {
            at: performance.now(),
            threads: await procThreadCpuSeconds(pid),
            cpu: await procCpuSeconds(pid),
            machine: await machineCpu(redis),
          };
        return done >= raws.length;
      },
      600_000,
      poll,
    );
    const endAt = performance.now();
    const endThreads = await procThreadCpuSeconds(pid);
    const endCpu = await procCpuSeconds(pid);
    const endMachine = await machineCpu(redis);
    const secondsTo2xx = (endAt - started) / 1000;
    await waitUntil(
      'an empty mailbox',
      async () => (await s.dovecot.countMessages(BENCH_USER)) === 0,
      60_000,
      poll,
    );
    const secondsToEmpty = (performance.now() - started) / 1000;
    const peakRssBytes = await procStatusBytes(pid, 'VmHWM');
    const ids = new Set(s.receiver.deliveries.map((d) => d.webhookId));
    if (ids.size !== raws.length || !s.receiver.deliveries.every((d) => d.verified)) {
      throw new Error(`${ids.size} distinct verified deliveries for ${raws.length} messages`);
    }
    const steady = raws.length - third;
    const from = steadyFrom!;
    return {
      startupCpuMs,
      steadyRate: steady / ((endAt - from.at) / 1000),
      steadyCpuMsPerMessage: ((endCpu - from.cpu) * 1000) / steady,
      threadCpuMsPerMessage: splitByThread(pid, from, { cpu: endCpu, threads: endThreads }, steady),
      ...restOf(from.machine, endMachine, endCpu - from.cpu, steady),
      peakRssBytes,
      redisCommands: (await redisCommandCalls(redis)) - commandsBefore,
      secondsTo2xx,
      secondsToEmpty,
    };
  });
}

/**
 * One more run, not measured, with V8's sampling heap profiler in the main thread (bench/lib/alloc-sampler.cjs)
 * from the moment a third of the messages was accepted: `dir`/all.txt (every allocation) and survivors.txt
 * (what outlived a scavenge). Prints each window's bytes per message accepted meanwhile, and its top lines.
 */
async function allocationProfile(s: EndToEndSetup, raws: Buffer[], dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const windows = ['all', 'survivors'].map((name) => ({ name, path: join(dir, `${name}.txt`), accepted: 0 }));
  await Promise.all(windows.map((w) => rm(w.path, { force: true })));
  const third = Math.ceil(raws.length / 3);
  const written = (path: string) => readFile(path, 'utf8').then(Boolean, () => false);
  await withPophookRun(
    s,
    raws,
    async (pid) => {
      const poll = { intervalMs: 10 };
      await waitUntil('a third of the deliveries', () => accepted(s.receiver) >= third, 600_000, poll);
      process.kill(pid, 'SIGUSR2');
      let from = accepted(s.receiver);
      for (const w of windows) {
        await waitUntil(`the allocation profile (${w.name})`, () => written(w.path), 60_000, poll);
        w.accepted = accepted(s.receiver) - from;
        from += w.accepted;
      }
    },
    { nodeFlags: ['--require', ALLOC_SAMPLER], env: { ALLOC_PROFILE_OUT: dir } },
  );
  for (const w of windows) {
    const lines = (await readFile(w.path, 'utf8')).split('\n');
    const bytes = Number(/^total (\d+) bytes/.exec(lines[0] ?? '')?.[1]);
    const perMessage =
      w.accepted > 0 ? `${(bytes / 1024 / w.accepted).toFixed(1)} KiB per message` : 'no message';
    s.log(
      `  allocation profile, main thread, ${w.name}: ${perMessage} (${w.accepted} accepted meanwhile; ${w.path})`,
    );
    for (const line of lines.slice(3, 15)) s.log(`    ${line}`);
  }
}

/** System calls per message of the whole pophook process (every thread), or undefined without strace. */
async function syscallsPerMessage(s: EndToEndSetup, raws: Buffer[]): Promise<number | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'pophook-bench-strace-'));
  const out = join(dir, 'strace');
  try {
    return await withPophookRun(s, raws, async (pid) => {
      const strace = spawn('strace', ['-f', '-c', '-o', out, '-p', String(pid)], { stdio: 'ignore' });
      const failed = new Promise<undefined>((resolve) => strace.once('error', () => resolve(undefined)));
      // strace attaches within a moment; mail flows once the first poll runs, a second after start.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await Promise.race([
        failed,
        waitUntil('every delivery under strace', () => accepted(s.receiver) >= raws.length, 600_000, {
          intervalMs: 50,
        }),
      ]);
      strace.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) => strace.once('close', resolve));
      if (code === null && strace.pid === undefined) return undefined;
      const total = (await readFile(out, 'utf8').catch(() => ''))
        .split('\n')
        .find((line) => /\stotal\s*$/.test(line));
      // % time, seconds, usecs/call, calls, errors, "total"
      const calls = total ? Number(total.trim().split(/\s+/)[3]) : Number.NaN;
      return Number.isFinite(calls) ? calls / raws.length : undefined;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function fetchmailCurl(s: EndToEndSetup, raws: Buffer[]): Promise<number> {
  await s.dovecot.clearMailbox(BENCH_USER);
  await s.dovecot.addMessages(BENCH_USER, raws);
  s.receiver.clear();
  await s.receiver.setRespond(200);
  const account = {
    host: s.dovecot.host,
    port: s.dovecot.pop3Port,
    user: BENCH_USER,
    password: BENCH_PASSWORD,
  };
  const run = await runPeer('fetchmail', account, {
    keep: false,
    mda: `curl -s -X POST -H 'content-type: message/rfc822' --data-binary @- ${s.receiver.url}`,
  });
  if (run.code !== 0 || accepted(s.receiver) !== raws.length) {
    throw new Error(`fetchmail+curl exited ${run.code}, ${accepted(s.receiver)} of ${raws.length} posted`);
  }
  return run.seconds;
}

/** mailparser alone, one message after another in this thread: messages/s and CPU ms per message. */
async function mailparserAlone(raws: Buffer[]): Promise<{ rate: number; cpuMs: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  // mailparser as anyone calls it, with its defaults: pophook's own options skip work (textAsHtml), and the
  // baseline must not move when they change.
  for (const raw of raws) await simpleParser(raw);
  const used = process.cpuUsage(cpu);
  return {
    rate: raws.length / ((performance.now() - started) / 1000),
    cpuMs: (used.user + used.system) / 1000 / raws.length,
  };
}

export async function benchEndToEnd(s: EndToEndSetup, hasFetchmail: boolean): Promise<EndToEndRow[]> {
  const raws = smallCorpus(s.count, 20_250).map((m) => m.raw);
  const served = raws.map((raw) => s.dovecot.expectedBytes(raw));
  const rows: EndToEndRow[] = [];
  if (hasFetchmail) {
    const few = raws.slice(0, FETCHMAIL_MESSAGES);
    const curlSeconds: number[] = [];
    for (let i = 0; i < s.runs; i++) {
      curlSeconds.push(await fetchmailCurl(s, few));
      s.log(`  fetchmail+curl run ${i + 1}/${s.runs}`);
    }
    rows.push({
      pipeline: 'fetchmail + curl MDA',
      runs: s.runs,
      messages: few.length,
      messagesPerSecond: few.length / median(curlSeconds),
    });
  }
  await mailparserAlone(served); // warm-up
  // A pass of mailparser alone right before each pophook run and one after the last: each run is judged
  // against the mean of the passes either side of it. This machine's speed drifts by a third from one minute
  // to the next, and a baseline taken a minute earlier moved the ratios more than any change measured.
  const parses = [await mailparserAlone(served)];
  s.log(
    `  mailparser alone: ${parses[0]!.rate.toFixed(0)} msg/s, ${parses[0]!.cpuMs.toFixed(3)} ms CPU per message`,
  );

  const redis = createRedis(s.redisUrl, 'worker');
  await waitReady(redis);
  const samples: PophookSample[] = [];
  try {
    for (let i = 0; i < s.runs; i++) {
      samples.push(await pophookRun(s, raws, redis));
      parses.push(await mailparserAlone(served));
      const last = samples.at(-1)!;
      s.log(
        `  pophook run ${i + 1}/${s.runs}: ${last.steadyRate.toFixed(0)} msg/s, ${last.steadyCpuMsPerMessage.toFixed(2)} ms CPU/msg (main ${ms(last.threadCpuMsPerMessage.main)}, parse thread ${ms(last.threadCpuMsPerMessage.busiest)}, other threads ${ms(last.threadCpuMsPerMessage.rest)}), start-up ${last.startupCpuMs} ms; mailparser alone after it ${parses.at(-1)!.cpuMs.toFixed(3)} ms`,
      );
    }
  } finally {
    await redis.quit();
  }
  const syscalls = await syscallsPerMessage(s, raws.slice(0, STRACE_MESSAGES)).catch((error: Error) => {
    s.log(`  strace run failed: ${error.message}`);
    return undefined;
  });
  if (s.allocProfileDir !== undefined) await allocationProfile(s, raws, s.allocProfileDir);
  const pick = (f: (x: PophookSample) => number) => median(samples.map(f));
  rows.push({
    pipeline: 'pophook run (dist/)',
    runs: s.runs,
    messages: s.count,
    messagesPerSecond: pick((x) => x.steadyRate),
    cpuMsPerMessage: pick((x) => x.steadyCpuMsPerMessage),
    threadCpuMsPerMessage: {
      main: pick((x) => x.threadCpuMsPerMessage.main),
      busiest: pick((x) => x.threadCpuMsPerMessage.busiest),
      rest: pick((x) => x.threadCpuMsPerMessage.rest),
    },
    restCpuMsPerMessage: pick((x) => x.restCpuMsPerMessage),
    restSplit: {
      redis: pick((x) => x.restSplit.redis),
      benchmark: pick((x) => x.restSplit.benchmark),
      dovecotAndOther: pick((x) => x.restSplit.dovecotAndOther),
    },
    machineBusyShare: pick((x) => x.machineBusyShare),
    startupCpuMs: pick((x) => x.startupCpuMs),
    peakRssBytes: pick((x) => x.peakRssBytes),
    redisCommandsPerMessage: pick((x) => x.redisCommands) / s.count,
    ...(syscalls === undefined ? {} : { syscallsPerMessage: syscalls }),
    secondsTo2xx: pick((x) => x.secondsTo2xx),
    secondsToEmpty: pick((x) => x.secondsToEmpty),
  });
  // Each run against the passes either side of it; the medians of those ratios are the run's.
  const around = (i: number, f: (p: { rate: number; cpuMs: number }) => number) =>
    (f(parses[i]!) + f(parses[i + 1]!)) / 2;
  const pophook = rows.at(-1)!;
  pophook.ratioToMailparser = median(samples.map((x, i) => x.steadyRate / around(i, (p) => p.rate)));
  pophook.cpuRatioToMailparser = median(
    samples.map((x, i) => x.steadyCpuMsPerMessage / around(i, (p) => p.cpuMs)),
  );
  const ceiling = median(parses.map((p) => p.rate));
  rows.unshift({
    pipeline: 'mailparser alone (1 core)',
    runs: parses.length,
    messages: s.count,
    messagesPerSecond: ceiling,
    cpuMsPerMessage: median(parses.map((p) => p.cpuMs)),
    ratioToMailparser: 1,
    cpuRatioToMailparser: 1,
  });
  const curl = rows.find((row) => row.pipeline.startsWith('fetchmail'));
  if (curl) curl.ratioToMailparser = curl.messagesPerSecond / ceiling;
  for (const row of rows) {
    if (curl) row.ratioToFetchmailCurl = row.messagesPerSecond / curl.messagesPerSecond;
  }
  return rows;
}
