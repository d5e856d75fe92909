// Bench section: the parse thread's work, in this process. pophook's payload from raw bytes (buildPayload,
// then the JSON body: what a parse thread does for each message) against mailparser alone (simpleParser with
// its defaults, as the e2e section's baseline) on the e2e section's corpus, warm, the two alternating pass by
// pass so that the machine's speed, which moves by tens of percent from one minute to the next here, moves
// both alike. Reports CPU and bytes allocated per message for each (V8's sampling heap profiler, young
// garbage included) and their ratios: a parse-side change of a few percent shows here when the e2e runs
// cannot resolve it.
//
// mailparser alone must be mailparser as its users run it, here and in the e2e section's baseline. pophook's
// parser module defers two of MailParser's methods on its prototype when it loads
// (src/payload/address-renderings.ts), so it is imported only inside benchParse, after mailparser's own
// methods were kept: they are put back for mailparser's passes and left in place at the end.
import { Session } from 'node:inspector/promises';
import { MailParser, simpleParser } from 'mailparser';
import { ADDRESS_RENDERERS } from '../src/payload/address-renderings.ts';
import type { PayloadMeta } from '../src/payload/index.ts';
import { smallCorpus } from '../test/helpers/mail-corpus.ts';
import { median } from './lib/measure.ts';

export interface ParseRow {
  what: string;
  messages: number;
  passes: number;
  /** Median CPU of a pass, per message, in milliseconds. */
  cpuMsPerMessage: number;
  /** Bytes allocated per message (sampled), young garbage included. */
  allocatedBytesPerMessage: number;
}

const WARM_PASSES = 3;
const SAMPLING_INTERVAL = 1024;

const meta = (i: number): PayloadMeta => ({
  id: `msg_bench${i}`,
  mailbox: 'bench',
  uidl: `bench-${i}`,
  receivedAt: new Date(0),
});

export async function benchParse(
  count: number,
  passes: number,
  log: (line: string) => void,
): Promise<ParseRow[]> {
  const raws = smallCorpus(count, 20_250).map((m) => m.raw);
  const prototype = MailParser.prototype as unknown as Record<string, unknown>;
  const methods = () => ADDRESS_RENDERERS.map((name) => [name, prototype[name]] as const);
  const mailparsers = methods();
  const { buildPayload, DEFAULT_PARSE_LIMITS } = await import('../src/payload/index.ts');
  const { serializePayload } = await import('../src/payload/thread-protocol.ts');
  const pophooks = methods();
  const use = (chosen: Contender['methods']) => {
    for (const [name, method] of chosen) prototype[name] = method;
  };
  const contenders = [
    {
      what: 'mailparser alone (simpleParser, defaults)',
      parse: (raw: Buffer) => simpleParser(raw),
      methods: mailparsers,
    },
    {
      what: 'pophook payload (buildPayload + JSON body)',
      parse: async (raw: Buffer, i: number) =>
        serializePayload(await buildPayload(raw, meta(i), DEFAULT_PARSE_LIMITS)),
      methods: pophooks,
    },
  ];
  try {
    return await measure(contenders, raws, passes, use, log);
  } finally {
    use(mailparsers);
  }
}

interface Contender {
  what: string;
  parse: (raw: Buffer, i: number) => Promise<unknown>;
  methods: ReadonlyArray<readonly [string, unknown]>;
}

async function measure(
  contenders: Contender[],
  raws: Buffer[],
  passes: number,
  use: (methods: Contender['methods']) => void,
  log: (line: string) => void,
): Promise<ParseRow[]> {
  const pass = async ({ parse, methods }: Contender) => {
    use(methods);
    const cpu = process.cpuUsage();
    for (const [i, raw] of raws.entries()) await parse(raw, i);
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / 1000 / raws.length;
  };
  for (let i = 0; i < WARM_PASSES; i++) for (const c of contenders) await pass(c);
  const cpu = contenders.map(() => [] as number[]);
  for (let i = 0; i < passes; i++) {
    // Alternating which goes first, so neither always follows the other's garbage.
    const order = i % 2 === 0 ? [0, 1] : [1, 0];
    for (const k of order) cpu[k]!.push(await pass(contenders[k]!));
  }
  const session = new Session();
  session.connect();
  const rows: ParseRow[] = [];
  try {
    for (const [k, c] of contenders.entries()) {
      await session.post('HeapProfiler.startSampling', {
        samplingInterval: SAMPLING_INTERVAL,
        includeObjectsCollectedByMinorGC: true,
        includeObjectsCollectedByMajorGC: true,
      });
      await pass(c);
      const { profile } = await session.post('HeapProfiler.stopSampling');
      rows.push({
        what: c.what,
        messages: raws.length,
        passes,
        cpuMsPerMessage: median(cpu[k]!),
        allocatedBytesPerMessage: sampledBytes(profile.head) / raws.length,
      });
    }
  } finally {
    session.disconnect();
  }
  for (const row of rows) {
    log(
      `  ${row.what}: ${row.cpuMsPerMessage.toFixed(3)} ms CPU, ${(row.allocatedBytesPerMessage / 1024).toFixed(1)} KB allocated per message`,
    );
  }
  const [alone, pophook] = rows;
  if (alone && pophook) {
    log(
      `  pophook payload / mailparser alone: ${(pophook.cpuMsPerMessage / alone.cpuMsPerMessage).toFixed(2)}x CPU, ${(pophook.allocatedBytesPerMessage / alone.allocatedBytesPerMessage).toFixed(2)}x bytes allocated`,
    );
  }
  return rows;
}

interface SamplingNode {
  selfSize: number;
  children: SamplingNode[];
}

function sampledBytes(node: SamplingNode): number {
  return node.children.reduce((sum, child) => sum + sampledBytes(child), node.selfSize);
}
