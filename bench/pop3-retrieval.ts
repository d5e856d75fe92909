// Benchmark: how fast our POP3 client retrieves a mailbox from a private Dovecot, pipelined (RFC 2449
// §6.6) against one command at a time, over plain TCP and over TLS. Keep mode (UIDL, LIST, every RETR,
// QUIT, no DELE), several runs, medians. Only this process's CPU is counted (Dovecot's is not).
//   node --import tsx bench/pop3-retrieval.ts [--messages 2000] [--size 8000] [--runs 5]
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pop3Client } from '../src/pop3/index.ts';
import type { Pop3ClientOptions } from '../src/pop3/types.ts';
import { type DovecotServer, startDovecot } from '../test/helpers/dovecot.ts';
import { bigMessage } from '../test/helpers/mail-corpus.ts';

const USER = 'bench';
const PASSWORD = 'bench-secret';
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results', 'pop3-retrieval.json');

type Transport = 'tcp' | 'tls';

interface Run {
  seconds: number;
  cpuSeconds: number;
  bytes: number;
  messages: number;
}

interface Summary {
  transport: Transport;
  pipelining: boolean;
  runs: number;
  medianSeconds: number;
  messagesPerSecond: number;
  megabytesPerSecond: number;
  cpuSeconds: number;
}

function options(server: DovecotServer, transport: Transport, pipelining: boolean): Pop3ClientOptions {
  return transport === 'tls'
    ? { host: server.host, port: server.pop3sPort, tls: 'implicit', ca: server.caPem, pipelining }
    : { host: server.host, port: server.pop3Port, tls: 'none', pipelining };
}

async function retrieveAll(server: DovecotServer, transport: Transport, pipelining: boolean): Promise<Run> {
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const client = await Pop3Client.connect(options(server, transport, pipelining));
  let bytes = 0;
  let messages = 0;
  try {
    await client.login({ username: USER, password: PASSWORD, allowPlaintextAuth: transport === 'tcp' });
    const uids = await client.uidl();
    await client.list();
    await client.retrEach(
      uids.map((entry) => entry.msg),
      async (_msg, body) => {
        for await (const chunk of body) bytes += (chunk as Buffer).length;
        messages++;
      },
    );
    await client.quit();
  } finally {
    client.close();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, bytes, messages };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

function summarize(transport: Transport, pipelining: boolean, runs: Run[]): Summary {
  const seconds = median(runs.map((r) => r.seconds));
  const first = runs[0]!;
  return {
    transport,
    pipelining,
    runs: runs.length,
    medianSeconds: seconds,
    messagesPerSecond: first.messages / seconds,
    megabytesPerSecond: first.bytes / 1e6 / seconds,
    cpuSeconds: median(runs.map((r) => r.cpuSeconds)),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: '2000' },
      size: { type: 'string', default: '8000' },
      runs: { type: 'string', default: '5' },
    },
  });
  const count = Number(values.messages);
  const size = Number(values.size);
  const runs = Number(values.runs);
  const server = await startDovecot({ users: { [USER]: PASSWORD } });
  try {
    const stored = Array.from({ length: count }, (_, i) => bigMessage(size, i + 1).raw);
    await server.addMessages(USER, stored);
    const totalBytes = stored.reduce((sum, raw) => sum + server.expectedBytes(raw).length, 0);
    const results: Summary[] = [];
    for (const transport of ['tcp', 'tls'] as const) {
      await retrieveAll(server, transport, true); // warm-up: Dovecot builds its index, JIT warms
      const byMode = new Map<boolean, Run[]>([
        [true, []],
        [false, []],
      ]);
      // Alternate the modes so that drift on a shared machine hits both alike.
      for (let i = 0; i < runs; i++) {
        for (const pipelining of [true, false]) {
          const run = await retrieveAll(server, transport, pipelining);
          if (run.messages !== count || run.bytes !== totalBytes) {
            throw new Error(
              `retrieved ${run.messages} of ${count} messages, ${run.bytes} of ${totalBytes} bytes`,
            );
          }
          byMode.get(pipelining)!.push(run);
        }
      }
      for (const [pipelining, list] of byMode) results.push(summarize(transport, pipelining, list));
    }
    report({ count, size, runs }, results);
    await mkdir(dirname(RESULTS), { recursive: true });
    const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version };
    await writeFile(
      RESULTS,
      `${JSON.stringify({ date: new Date().toISOString(), machine, count, size, runs, results }, null, 2)}\n`,
    );
    process.stdout.write(`\nwritten to ${RESULTS}\n`);
  } finally {
    await server.stop();
  }
}

function report(setup: { count: number; size: number; runs: number }, results: Summary[]): void {
  const out = process.stdout;
  out.write(`${setup.count} messages of ~${setup.size} bytes, ${setup.runs} runs each, medians\n\n`);
  out.write('transport  pipelining   msg/s    MB/s   seconds  cpu s\n');
  for (const r of results) {
    out.write(
      `${r.transport.padEnd(10)} ${String(r.pipelining).padEnd(10)} ${r.messagesPerSecond.toFixed(0).padStart(7)} ` +
        `${r.megabytesPerSecond.toFixed(1).padStart(7)} ${r.medianSeconds.toFixed(3).padStart(9)} ` +
        `${r.cpuSeconds.toFixed(3).padStart(6)}\n`,
    );
  }
  for (const transport of ['tcp', 'tls'] as const) {
    const on = results.find((r) => r.transport === transport && r.pipelining);
    const off = results.find((r) => r.transport === transport && !r.pipelining);
    if (on && off) {
      out.write(
        `${transport}: pipelined / non-pipelined = ${(on.messagesPerSecond / off.messagesPerSecond).toFixed(2)}x\n`,
      );
    }
  }
}

await main();
