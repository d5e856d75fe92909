// The bench's output: tables with a line saying what each figure means, the targets from the "Fast and
// lean" issue judged, the JSON written to bench/results/latest.json (the previous one kept as
// previous.json) and the deltas against it.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EndToEndRow } from '../end-to-end.ts';
import type { MemoryRow, RedisMemoryRow } from '../memory.ts';
import type { ParseRow } from '../parse.ts';
import type { RetrievalRow } from '../retrieval.ts';

export interface BenchResults {
  date: string;
  command: string;
  machine: { cpus: number; cpuModel?: string; node: string };
  notes: string[];
  retrieval: RetrievalRow[];
  endToEnd: EndToEndRow[];
  memory: MemoryRow[];
  redis?: RedisMemoryRow;
  /** The parse thread's work in the bench process against mailparser alone (bench/parse.ts). */
  parse?: ParseRow[];
  targets: Target[];
}

export interface Target {
  name: string;
  met: boolean | null;
  detail: string;
}

const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');
const out = (line = '') => process.stdout.write(`${line}\n`);
const n = (value: number | undefined, digits = 0) => (value === undefined ? '-' : value.toFixed(digits));
const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

export function printRetrieval(rows: RetrievalRow[]): void {
  out('\nPOP3 retrieval (keep mode, plain TCP, one file written per message; medians)');
  out('  msg/s, MB/s: messages and served bytes per wall second; cpu s: CPU seconds of the client');
  out('  (user+system; peers via time(1), children included); x best peer: msg/s over the fastest peer');
  out(
    `  ${'workload'.padEnd(16)}${'client'.padEnd(26)}${'msg/s'.padStart(9)}${'MB/s'.padStart(8)}${'seconds'.padStart(9)}${'cpu s'.padStart(8)}${'x best peer'.padStart(13)}`,
  );
  for (const r of rows) {
    out(
      `  ${r.workload.padEnd(16)}${r.client.padEnd(26)}${n(r.messagesPerSecond).padStart(9)}${n(r.megabytesPerSecond, 1).padStart(8)}` +
        `${n(r.seconds, 3).padStart(9)}${n(r.cpuSeconds, 2).padStart(8)}${n(r.ratioToBestPeer, 2).padStart(13)}`,
    );
  }
}

export function printEndToEnd(rows: EndToEndRow[]): void {
  out('\nEnd to end: POP3 → Redis → parse → signed POST → 2xx (→ DELE), medians');
  out(
    '  msg/s and CPU ms/msg: steady state (pophook: from the first third of the messages accepted to the last;',
  );
  out('  every thread of the process, /proc); x parser: over mailparser alone on one core in this run');
  out(
    `  ${'pipeline'.padEnd(28)}${'msgs'.padStart(6)}${'msg/s'.padStart(8)}${'x parser'.padStart(10)}${'cpu ms/msg'.padStart(12)}${'x parser'.padStart(10)}${'x fc+curl'.padStart(11)}`,
  );
  for (const r of rows) {
    out(
      `  ${r.pipeline.padEnd(28)}${String(r.messages).padStart(6)}${n(r.messagesPerSecond).padStart(8)}${n(r.ratioToMailparser, 2).padStart(10)}` +
        `${n(r.cpuMsPerMessage, 3).padStart(12)}${n(r.cpuRatioToMailparser, 2).padStart(10)}${n(r.ratioToFetchmailCurl, 1).padStart(11)}`,
    );
  }
  const ours = rows.find((r) => r.startupCpuMs !== undefined);
  if (ours) {
    out(
      `  pophook: start-up ${n(ours.startupCpuMs)} ms CPU (exec to "pophook started", all threads); peak RSS ${mb(ours.peakRssBytes ?? 0)} MB;`,
    );
    out(
      `  ${n(ours.redisCommandsPerMessage, 1)} Redis commands/msg; ${n(ours.syscallsPerMessage, 1)} syscalls/msg (strace -f -c); to last 2xx ${n(ours.secondsTo2xx, 1)} s, to empty ${n(ours.secondsToEmpty, 1)} s`,
    );
    const threads = ours.threadCpuMsPerMessage;
    if (threads) {
      out(
        `  cpu ms/msg by thread (steady): main ${n(threads.main, 3)}, parse thread ${n(threads.busiest, 3)}, the others ${n(threads.rest, 3)}`,
      );
    }
    const ceiling = machineCeiling(ours, rows);
    if (ceiling) {
      out(
        `  the rest of the machine (steady): ${n(ours.restCpuMsPerMessage, 3)} ms/msg (Redis ${n(ours.restSplit?.redis, 3)}, this benchmark with the verifying receiver ${n(ours.restSplit?.benchmark, 3)}, Dovecot and all else ${n(ours.restSplit?.dovecotAndOther, 3)}); ${n((ours.machineBusyShare ?? 0) * 100)}% of the ${ceiling.cores} cores busy`,
      );
      out(
        `  with every core busy, pophook and the rest at these costs would move ${n(ceiling.rate)} msg/s = ${ceiling.ratio.toFixed(3)}x mailparser alone (the machine's ceiling for the rate target)`,
      );
    }
  }
}

/** The rate the machine allows: every core busy with pophook's and the rest's CPU per message as measured. */
function machineCeiling(ours: EndToEndRow, rows: EndToEndRow[]) {
  const parser = rows.find((r) => r.pipeline.startsWith('mailparser'));
  if (ours.restCpuMsPerMessage === undefined || ours.cpuMsPerMessage === undefined || !parser)
    return undefined;
  const cores = availableParallelism();
  const rate = (cores * 1000) / (ours.cpuMsPerMessage + ours.restCpuMsPerMessage);
  return { cores, rate, ratio: rate / parser.messagesPerSecond };
}

export function printMemory(rows: MemoryRow[], redis: RedisMemoryRow | undefined): void {
  if (rows.length > 0) {
    out('\nDeliver worker memory: one message through a dedicated `pophook worker --role deliver`');
    out(
      '  growth = peak RSS (VmHWM) during the delivery - RSS when idle and warm; x size = growth / message bytes',
    );
    out(
      `  ${'message MB'.padEnd(12)}${'attachments'.padEnd(12)}${'idle MB'.padStart(9)}${'peak MB'.padStart(9)}${'growth MB'.padStart(11)}${'x size'.padStart(8)}${'seconds'.padStart(9)}`,
    );
    for (const r of rows) {
      out(
        `  ${mb(r.messageBytes).padEnd(12)}${(r.attachments ?? 'inline').padEnd(12)}${mb(r.idleRssBytes).padStart(9)}${mb(r.peakRssBytes).padStart(9)}` +
          `${mb(r.growthBytes).padStart(11)}${n(r.growthRatio, 2).padStart(8)}${n(r.deliverSeconds, 2).padStart(9)}`,
      );
    }
  }
  if (redis) {
    out('\nRedis memory per queued message (raw bytes + ledger entry + deliver job, no workers)');
    out(
      `  ${redis.messages} messages, ${mb(redis.rawBytes)} MB raw, used_memory +${mb(redis.usedMemoryDeltaBytes)} MB: ` +
        `${n(redis.overheadBytesPerMessage)} bytes per message beyond its raw bytes`,
    );
  }
}

export function judgeTargets(r: BenchResults, bigRun: boolean): Target[] {
  const targets: Target[] = [];
  const retrievalWorkload = bigRun
    ? r.retrieval.filter((x) => x.workload.startsWith('20000'))
    : r.retrieval.filter((x) => x.workload.startsWith('2000 '));
  const ours = retrievalWorkload.find((x) => x.client === 'pophook (pipelined)');
  const mpop = retrievalWorkload.find((x) => x.client === 'mpop');
  const fetchmail = r.retrieval.find((x) => x.client === 'fetchmail' && x.workload.startsWith('2000 '));
  const ours2000 = r.retrieval.find(
    (x) => x.client === 'pophook (pipelined)' && x.workload.startsWith('2000 '),
  );
  const on = bigRun ? '20,000 messages' : '2,000 messages (run with --big for 20,000)';
  if (ours && mpop) {
    const ratio = ours.messagesPerSecond / mpop.messagesPerSecond;
    targets.push({
      name: 'retrieval within 10% of mpop',
      met: ratio >= 0.9,
      detail: `${ratio.toFixed(2)}x mpop on ${on}`,
    });
  }
  if (ours2000 && fetchmail) {
    const ratio = ours2000.messagesPerSecond / fetchmail.messagesPerSecond;
    targets.push({
      name: 'retrieval >= 3x fetchmail',
      met: ratio >= 3,
      detail: `${ratio.toFixed(2)}x fetchmail on 2,000 messages`,
    });
  }
  targets.push(...endToEndTargets(r));
  const inline = r.memory.filter((x) => x.attachments !== 'reference');
  const biggest = [...inline].sort((a, b) => b.messageBytes - a.messageBytes)[0];
  if (biggest) {
    targets.push({
      name: 'peak RSS growth < 1.5x message size',
      met: biggest.growthRatio < 1.5,
      detail: `${mb(biggest.messageBytes)} MB message: +${mb(biggest.growthBytes)} MB = ${biggest.growthRatio.toFixed(2)}x`,
    });
  }
  const fifty = inline.find((x) => x.messageBytes >= 50e6); // bigMessage(50 MiB): a 50 MiB attachment
  if (fifty) {
    targets.push({
      name: 'peak RSS < 200 MB with a 50 MiB attachment',
      met: fifty.peakRssBytes < 200e6,
      detail: `${mb(fifty.messageBytes)} MB message: peak ${mb(fifty.peakRssBytes)} MB (VmHWM, whole process)`,
    });
  }
  return targets;
}

/** Issue 15's targets, each against mailparser alone measured in the same run. */
function endToEndTargets(r: BenchResults): Target[] {
  const ours = r.endToEnd.find((x) => x.startupCpuMs !== undefined);
  if (!ours) return [];
  const targets: Target[] = [];
  if (ours.cpuRatioToMailparser !== undefined)
    targets.push({
      name: 'CPU per message <= 3x mailparser alone',
      met: ours.cpuRatioToMailparser <= 3,
      detail: `${n(ours.cpuMsPerMessage, 3)} ms = ${ours.cpuRatioToMailparser.toFixed(2)}x (steady, all threads)`,
    });
  if (ours.ratioToMailparser !== undefined)
    targets.push({
      name: 'rate >= 0.3x mailparser alone on one core',
      met: ours.ratioToMailparser >= 0.3,
      detail: `${n(ours.messagesPerSecond)} msg/s = ${ours.ratioToMailparser.toFixed(3)}x (steady)`,
    });
  targets.push({
    name: 'start-up < 0.5 s of CPU',
    met: (ours.startupCpuMs ?? Number.POSITIVE_INFINITY) < 500,
    detail: `${n(ours.startupCpuMs)} ms, exec to "pophook started", all threads`,
  });
  if (ours.peakRssBytes !== undefined)
    targets.push({
      name: 'peak RSS <= 120 MB on small mail',
      met: ours.peakRssBytes <= 120e6,
      detail: `${mb(ours.peakRssBytes)} MB (VmHWM after ${ours.messages} messages)`,
    });
  return targets;
}

export function printTargets(targets: Target[]): void {
  out('\nTargets (issues "Fast and lean" and 15)');
  for (const t of targets)
    out(`  [${t.met === null ? '?' : t.met ? 'met' : 'NOT met'}] ${t.name}: ${t.detail}`);
}

/** Writes latest.json (the old one becomes previous.json) and prints the changes of the headline figures. */
export async function saveAndCompare(results: BenchResults): Promise<void> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const latest = join(RESULTS_DIR, 'latest.json');
  const previous = await readFile(latest, 'utf8').then(
    (text) => JSON.parse(text) as BenchResults,
    () => undefined,
  );
  if (previous) await copyFile(latest, join(RESULTS_DIR, 'previous.json'));
  await writeFile(latest, `${JSON.stringify(results, null, 2)}\n`);
  out(`\nwritten to ${latest}`);
  if (!previous) return;
  out(`\nChanges since the previous run (${previous.date}); + is better for rates, - is better for memory`);
  const pct = (now: number, was: number) =>
    `${now >= was ? '+' : ''}${(((now - was) / was) * 100).toFixed(1)}%`;
  for (const row of results.retrieval) {
    const was = previous.retrieval?.find((p) => p.workload === row.workload && p.client === row.client);
    if (was)
      out(
        `  retrieval ${row.workload} ${row.client}: ${n(row.messagesPerSecond)} msg/s (${pct(row.messagesPerSecond, was.messagesPerSecond)})`,
      );
  }
  for (const row of results.endToEnd) {
    const was = previous.endToEnd?.find((p) => p.pipeline === row.pipeline);
    if (was)
      out(
        `  end to end ${row.pipeline}: ${n(row.messagesPerSecond)} msg/s (${pct(row.messagesPerSecond, was.messagesPerSecond)})`,
      );
  }
  for (const row of results.memory) {
    const was = previous.memory?.find(
      (p) =>
        (p.attachments ?? 'inline') === row.attachments && Math.abs(p.messageBytes - row.messageBytes) < 1e5,
    );
    if (was)
      out(
        `  memory ${mb(row.messageBytes)} MB: growth ${mb(row.growthBytes)} MB (${pct(row.growthBytes, was.growthBytes)})`,
      );
  }
  if (results.redis && previous.redis) {
    out(
      `  redis: ${n(results.redis.overheadBytesPerMessage)} B/message (${pct(results.redis.overheadBytesPerMessage, previous.redis.overheadBytesPerMessage)})`,
    );
  }
}
