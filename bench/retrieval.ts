// Bench section: POP3 retrieval from a private Dovecot over plain TCP, keep mode (UIDL, LIST, every RETR,
// QUIT, no DELE), one file written per message. pophook's client (pipelined and one command at a time)
// against mpop, fetchmail and getmail6 doing the same; two more pophook rows show its real sink (RawStore
// into Redis, chunked, as a poll session stores) and the protocol ceiling (bytes read and dropped). pophook is timed in this process from connect to
// QUIT (node's own start-up is not counted; the peers' start-up is, a few ms for mpop); peers' CPU comes
// from time(1) and includes their children (fetchmail's MDA shells).
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawStore } from '../src/ledger/index.ts';
import { Pop3Client } from '../src/pop3/index.ts';
import type { Redis } from '../src/queue/connections.ts';
import type { DovecotServer } from '../test/helpers/dovecot.ts';
import { bigMessage } from '../test/helpers/mail-corpus.ts';
import { median, type Sample, timeInProcess } from './lib/measure.ts';
import { type PeerName, runPeer } from './lib/peers.ts';

export const BENCH_USER = 'bench';
export const BENCH_PASSWORD = 'bench-secret';

export interface RetrievalRow {
  workload: string;
  client: string;
  runs: number;
  messages: number;
  bytes: number;
  seconds: number;
  messagesPerSecond: number;
  megabytesPerSecond: number;
  cpuSeconds: number;
  /** messages/s over the best peer's (fastest of mpop, fetchmail, getmail6) on the same workload. */
  ratioToBestPeer?: number;
}

export interface Workload {
  name: string;
  count: number;
  size: number;
  runs: number;
  peers: PeerName[];
}

type Mode = 'pipelined' | 'one-at-a-time';
type Sink = 'files' | 'redis' | 'dropped';
type Deliver = (msg: number, body: AsyncIterable<Buffer>) => Promise<void>;

/** Files are written synchronously, as mpop does: on this disk that beats libuv's thread pool round trips. */
function fileSink(dir: string): Deliver {
  return async (msg, body) => {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk);
    writeFileSync(join(dir, String(msg)), Buffer.concat(chunks));
  };
}

function redisSink(redis: Redis, prefix: string): Deliver {
  const store = new RawStore(redis, prefix);
  return async (msg, body) => {
    await store.write('bench', `u${msg}`, body, { ttlMs: 600_000 });
  };
}

const dropSink: Deliver = async (_msg, body) => {
  for await (const _chunk of body);
};

async function pophookRetrieve(server: DovecotServer, mode: Mode, deliver: Deliver): Promise<number> {
  const client = await Pop3Client.connect({
    host: server.host,
    port: server.pop3Port,
    tls: 'none',
    pipelining: mode === 'pipelined',
  });
  let messages = 0;
  try {
    await client.login({ username: BENCH_USER, password: BENCH_PASSWORD, allowPlaintextAuth: true });
    const uids = await client.uidl();
    await client.list();
    await client.retrEach(
      uids.map((entry) => entry.msg),
      async (msg, body) => {
        await deliver(msg, body);
        messages++;
      },
    );
    await client.quit();
  } finally {
    client.close();
  }
  return messages;
}

async function pophookRun(server: DovecotServer, redis: Redis, mode: Mode, sink: Sink, count: number) {
  const dir = await mkdtemp(join(tmpdir(), 'pophook-bench-files-'));
  const prefix = `benchraw${process.hrtime.bigint()}`;
  try {
    const deliver = sink === 'files' ? fileSink(dir) : sink === 'redis' ? redisSink(redis, prefix) : dropSink;
    const sample = await timeInProcess(() => pophookRetrieve(server, mode, deliver));
    if (sample.value !== count) throw new Error(`pophook retrieved ${sample.value} of ${count}`);
    return sample;
  } finally {
    await rm(dir, { recursive: true, force: true });
    if (sink === 'redis') await redis.flushall(); // the next run measures the same empty Redis
  }
}

/** Fills the mailbox (replacing what was there) with `count` messages of about `size` bytes. */
export async function fillMailbox(server: DovecotServer, count: number, size: number): Promise<number> {
  await server.clearMailbox(BENCH_USER);
  let bytes = 0;
  for (let start = 0; start < count; start += 1000) {
    const batch = Array.from(
      { length: Math.min(1000, count - start) },
      (_, i) => bigMessage(size, start + i + 1).raw,
    );
    bytes += batch.reduce((sum, raw) => sum + server.expectedBytes(raw).length, 0);
    await server.addMessages(BENCH_USER, batch);
  }
  return bytes;
}

export async function benchRetrieval(
  server: DovecotServer,
  redis: Redis,
  w: Workload,
  log: (line: string) => void,
): Promise<RetrievalRow[]> {
  const bytes = await fillMailbox(server, w.count, w.size);
  const account = { host: server.host, port: server.pop3Port, user: BENCH_USER, password: BENCH_PASSWORD };
  const samples = new Map<string, Sample[]>();
  const add = (client: string, sample: Sample) =>
    samples.set(client, [...(samples.get(client) ?? []), sample]);
  const clients: Array<{ name: string; run: () => Promise<Sample | undefined> }> = [
    ...(
      [
        ['pipelined', 'files'],
        ['one-at-a-time', 'files'],
        ['pipelined', 'redis'],
        ['pipelined', 'dropped'],
      ] as const
    ).map(([mode, sink]) => ({
      name: sink === 'files' ? `pophook (${mode})` : `pophook (${mode}, ${sink})`,
      run: () => pophookRun(server, redis, mode, sink, w.count),
    })),
    ...w.peers.map((peer) => ({
      name: peer,
      run: async () => {
        const run = await runPeer(peer, account);
        if (run.code === 0 && run.delivered === w.count) return run;
        // A peer's own failure (getmail6 times out its delivery child on a loaded machine) costs that
        // sample, not the whole bench.
        log(
          `  ${w.name}: ${peer} failed, sample dropped: exit ${run.code}, ${run.delivered} of ${w.count}: ${run.stderr.slice(0, 200)}`,
        );
        return undefined;
      },
    })),
  ];
  await clients[0]!.run(); // warm-up: Dovecot builds its index and cache, the JIT warms
  // Runs interleave the clients so that drift on a shared machine hits all alike.
  for (let i = 0; i < w.runs; i++) {
    for (const client of clients) {
      const sample = await client.run();
      if (sample) add(client.name, sample);
      log(`  ${w.name}: ${client.name} run ${i + 1}/${w.runs}`);
    }
  }
  const rows: RetrievalRow[] = [...samples].map(([client, list]) => {
    const seconds = median(list.map((s) => s.seconds));
    return {
      workload: w.name,
      client,
      runs: list.length,
      messages: w.count,
      bytes,
      seconds,
      messagesPerSecond: w.count / seconds,
      megabytesPerSecond: bytes / 1e6 / seconds,
      cpuSeconds: median(list.map((s) => s.cpuSeconds)),
    };
  });
  const peerRows = rows.filter((r) => w.peers.includes(r.client as PeerName));
  const best = Math.max(...peerRows.map((r) => r.messagesPerSecond));
  if (peerRows.length > 0) for (const row of rows) row.ratioToBestPeer = row.messagesPerSecond / best;
  return rows;
}
