// Bench section: end to end. N small messages in Dovecot → the real `pophook run` process (POP3 → Redis →
// parse thread → signed POST to a local verifying receiver → 2xx → DELE in the next session), for deliver
// concurrency 1, 2 and 4. Against: mailparser alone on the same bytes (this process, one core, one message
// after another: the ceiling of the parse step), and a user's usual script, fetchmail with a curl MDA
// posting each message (deleting after each successful MDA run, as fetchmail does by default).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PARSE_LIMITS } from '../src/payload/index.ts';
import { parseMail } from '../src/payload/mail-parser.ts';
import type { DovecotServer } from '../test/helpers/dovecot.ts';
import { smallCorpus } from '../test/helpers/mail-corpus.ts';
import type { Receiver } from '../test/helpers/receiver.ts';
import { waitUntil } from '../test/helpers/wait.ts';
import { median } from './lib/measure.ts';
import { runPeer } from './lib/peers.ts';
import { newPrefix, startService, writeBenchConfig } from './lib/pipeline.ts';
import { BENCH_PASSWORD, BENCH_USER } from './retrieval.ts';

export interface EndToEndRow {
  pipeline: string;
  concurrency?: number;
  runs: number;
  messages: number;
  /** Seconds from the process being up (or the script starting) to the last 2xx. */
  secondsTo2xx: number;
  /** Seconds until the mailbox is empty (pophook: the DELE session after the last delivery). */
  secondsToEmpty?: number;
  messagesPerSecond: number;
  /** messages/s over mailparser alone on one core. */
  ratioToMailparser?: number;
  /** messages/s over fetchmail + curl. */
  ratioToFetchmailCurl?: number;
}

export interface EndToEndSetup {
  dovecot: DovecotServer;
  receiver: Receiver;
  redisUrl: string;
  count: number;
  runs: number;
  concurrencies: number[];
  log: (line: string) => void;
}

const accepted = (receiver: Receiver) => receiver.deliveries.filter((d) => d.status === 200).length;

async function pophookRun(s: EndToEndSetup, raws: Buffer[], concurrency: number) {
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
    concurrency,
  });
  const child = await startService(['run', '--config', path]);
  try {
    const started = performance.now();
    // Looks every 10 ms: the wait is the measurement.
    const poll = { intervalMs: 10 };
    await waitUntil('every delivery', () => accepted(s.receiver) >= raws.length, 300_000, poll);
    const secondsTo2xx = (performance.now() - started) / 1000;
    await waitUntil(
      'an empty mailbox',
      async () => (await s.dovecot.countMessages(BENCH_USER)) === 0,
      60_000,
      poll,
    );
    const secondsToEmpty = (performance.now() - started) / 1000;
    const ids = new Set(s.receiver.deliveries.map((d) => d.webhookId));
    if (ids.size !== raws.length || !s.receiver.deliveries.every((d) => d.verified)) {
      throw new Error(`${ids.size} distinct verified deliveries for ${raws.length} messages`);
    }
    return { secondsTo2xx, secondsToEmpty };
  } finally {
    await child.stop();
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

/** mailparser alone, one message after another in this thread: messages/s. */
async function mailparserAlone(raws: Buffer[]): Promise<number> {
  const started = performance.now();
  for (const raw of raws) await parseMail(raw, DEFAULT_PARSE_LIMITS);
  return raws.length / ((performance.now() - started) / 1000);
}

export async function benchEndToEnd(s: EndToEndSetup): Promise<EndToEndRow[]> {
  const raws = smallCorpus(s.count, 20_250).map((m) => m.raw);
  const served = raws.map((raw) => s.dovecot.expectedBytes(raw));
  await mailparserAlone(served); // warm-up
  const parseRates: number[] = [];
  for (let i = 0; i < s.runs; i++) parseRates.push(await mailparserAlone(served));
  const ceiling = median(parseRates);
  s.log(`  mailparser alone: ${ceiling.toFixed(0)} msg/s`);

  const curlSeconds: number[] = [];
  for (let i = 0; i < s.runs; i++) {
    curlSeconds.push(await fetchmailCurl(s, raws));
    s.log(`  fetchmail+curl run ${i + 1}/${s.runs}`);
  }
  const curlRate = s.count / median(curlSeconds);

  const rows: EndToEndRow[] = [
    {
      pipeline: 'mailparser alone (1 core)',
      runs: s.runs,
      messages: s.count,
      secondsTo2xx: s.count / ceiling,
      messagesPerSecond: ceiling,
    },
    {
      pipeline: 'fetchmail + curl MDA',
      runs: s.runs,
      messages: s.count,
      secondsTo2xx: median(curlSeconds),
      messagesPerSecond: curlRate,
    },
  ];
  for (const concurrency of s.concurrencies) {
    const results: Array<{ secondsTo2xx: number; secondsToEmpty: number }> = [];
    for (let i = 0; i < s.runs; i++) {
      results.push(await pophookRun(s, raws, concurrency));
      s.log(`  pophook run, concurrency ${concurrency}: run ${i + 1}/${s.runs}`);
    }
    const secondsTo2xx = median(results.map((r) => r.secondsTo2xx));
    rows.push({
      pipeline: 'pophook run',
      concurrency,
      runs: s.runs,
      messages: s.count,
      secondsTo2xx,
      secondsToEmpty: median(results.map((r) => r.secondsToEmpty)),
      messagesPerSecond: s.count / secondsTo2xx,
    });
  }
  for (const row of rows) {
    row.ratioToMailparser = row.messagesPerSecond / ceiling;
    row.ratioToFetchmailCurl = row.messagesPerSecond / curlRate;
  }
  return rows;
}
