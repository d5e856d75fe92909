// `npm run bench`: pophook's benchmark. Sets up what it needs (a private Dovecot, a private Redis, a local
// verifying receiver; mpop, fetchmail and getmail6 from Debian packages when missing and root), runs the
// sections, prints what each figure means, judges the targets of the "Fast and lean" issue and writes
// bench/results/latest.json with deltas against the previous run.
//   npm run bench -- [--runs 3] [--big] [--only retrieval,e2e,parse,memory,redis] [--e2e-messages 6000]
//                    [--node-flags='--heap-growing-percent=40 ...'] [--alloc-profile]
// pophook runs compiled (dist/): `npm run bench` builds it first.
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createRedis, waitReady } from '../src/queue/connections.ts';
import { startDovecot } from '../test/helpers/dovecot.ts';
import { startReceiver } from '../test/helpers/receiver.ts';
import { startRedisServer } from '../test/helpers/redis-server.ts';
import { benchEndToEnd } from './end-to-end.ts';
import { ensurePeers, type PeerName } from './lib/peers.ts';
import { SECRET } from './lib/pipeline.ts';
import {
  type BenchResults,
  judgeTargets,
  printEndToEnd,
  printMemory,
  printRetrieval,
  printTargets,
  saveAndCompare,
} from './lib/report.ts';
import { benchDeliverMemory, benchRedisMemory } from './memory.ts';
import { benchParse } from './parse.ts';
import { BENCH_PASSWORD, BENCH_USER, benchRetrieval, type Workload } from './retrieval.ts';

const MB = 1024 * 1024;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    big: { type: 'boolean', default: false },
    only: { type: 'string', default: 'retrieval,e2e,parse,memory,redis' },
    'e2e-messages': { type: 'string', default: '6000' },
    // Node flags after the bin's in every pophook process of the e2e and memory sections: V8 flags tried
    // without editing bin/pophook.js (a later flag wins; the code cache is refused if they change V8's).
    'node-flags': { type: 'string', default: '' },
    // One more e2e run, not measured, profiling the main thread's allocations (bench/lib/alloc-sampler.cjs).
    'alloc-profile': { type: 'boolean', default: false },
  },
});
const nodeFlags = (values['node-flags'] ?? '').split(/\s+/).filter(Boolean);
const RESULTS_DIR = new URL('./results/', import.meta.url).pathname;
const runs = Number(values.runs);
const sections = new Set((values.only ?? '').split(','));
const log = (line: string) => process.stderr.write(`${line}\n`);

if (process.getuid?.() !== 0) {
  process.stderr.write('the bench needs root: Dovecot runs with its own privilege separation\n');
  process.exit(2);
}
const { available, notes } = ensurePeers();
const peers = (['mpop', 'fetchmail', 'getmail6'] as PeerName[]).filter((p) => available.has(p));
for (const note of notes) log(`note: ${note}`);

const [dovecot, redis, receiver, countingReceiver] = await Promise.all([
  startDovecot({ users: { [BENCH_USER]: BENCH_PASSWORD } }),
  // AOF on as DESIGN.md asks, with Redis's default fsync policy for it (once a second), not the test
  // helper's fsync-per-write which measures the disk rather than pophook.
  startRedisServer({ appendonly: true, extraArgs: ['--appendfsync', 'everysec'] }),
  // The memory section checks each payload; end to end, thousands of bodies are only verified and counted.
  startReceiver({ secret: SECRET }),
  startReceiver({ secret: SECRET, keepBodies: false }),
]);
const results: BenchResults = {
  date: new Date().toISOString(),
  command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
  notes: [
    ...notes,
    'pophook retrieval is timed in-process from connect to QUIT; peers as whole processes under time(1)',
    'fetchmail delivers through an MDA `cat > maildir/new/$$` (a file per message, like the others)',
    'Redis runs with appendonly yes, appendfsync everysec, maxmemory-policy noeviction',
    'end to end uses the real `pophook run` process (dist/) at LOG_LEVEL=info; CPU and RSS of all its threads from /proc',
    ...(nodeFlags.length > 0
      ? [`pophook ran with these node flags after the bin's: ${nodeFlags.join(' ')}`]
      : []),
    `load average at the start: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  ],
  retrieval: [],
  endToEnd: [],
  memory: [],
  targets: [],
};
try {
  if (sections.has('retrieval')) {
    // Its own Redis without AOF (the retrieval rows compare clients, not disks), flushed between runs.
    const scratchServer = await startRedisServer();
    const scratch = createRedis(scratchServer.url, 'worker');
    await waitReady(scratch);
    try {
      const workloads: Workload[] = [
        { name: '2000 x 8 KB', count: 2000, size: 8000, runs, peers },
        { name: '20 x 5 MB', count: 20, size: 5 * MB, runs, peers },
        ...(values.big
          ? [
              {
                name: '20000 x 8 KB',
                count: 20_000,
                size: 8000,
                runs: Math.min(runs, 3),
                peers: peers.filter((p) => p === 'mpop'),
              },
            ]
          : []),
      ];
      for (const workload of workloads) {
        log(`retrieval: ${workload.name}`);
        results.retrieval.push(...(await benchRetrieval(dovecot, scratch, workload, log)));
      }
    } finally {
      await scratch.quit();
      await scratchServer.stop();
    }
    printRetrieval(results.retrieval);
  }
  if (sections.has('e2e')) {
    log('end to end');
    results.endToEnd = await benchEndToEnd(
      {
        dovecot,
        receiver: countingReceiver,
        redisUrl: redis.url,
        count: Number(values['e2e-messages']),
        runs,
        log,
        nodeFlags,
        allocProfileDir: values['alloc-profile'] ? `${RESULTS_DIR}alloc-profile` : undefined,
      },
      available.has('fetchmail'),
    );
    printEndToEnd(results.endToEnd);
  }
  if (sections.has('parse')) {
    log('parse thread work, in this process (alternating with mailparser alone, 2,000 messages a pass)');
    // At least 6 passes each: the medians of fewer move with the machine.
    results.parse = await benchParse(2000, Math.max(6, runs * 2), log);
  }
  if (sections.has('memory')) {
    log('deliver worker memory');
    results.memory = await benchDeliverMemory(
      { dovecot, receiver, redisUrl: redis.url, nodeFlags },
      [1 * MB, 10 * MB, 50 * MB],
      log,
    );
  }
  if (sections.has('redis')) results.redis = await benchRedisMemory(redis.url, 1001);
  printMemory(results.memory, results.redis);
  results.targets = judgeTargets(results, values.big ?? false);
  printTargets(results.targets);
  await saveAndCompare(results);
} finally {
  await Promise.all([dovecot.stop(), redis.stop(), receiver.stop(), countingReceiver.stop()]);
}
