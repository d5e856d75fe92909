// The figures table printed at the end of `npm run test:faults`: the evidence in docs/guarantees.md.
// Lost and early deletes must be 0; duplicates are allowed and shown as a rate.
import type { Figures } from './invariants.ts';
import { MESSAGES, ROUNDS } from './knobs.ts';

const COLUMNS: Array<[string, (f: Figures) => string | number]> = [
  ['scenario', (f) => f.scenario],
  ['messages', (f) => f.messages],
  ['kills', (f) => f.kills],
  ['faults', (f) => f.faults],
  ['restarts', (f) => f.restarts],
  ['sessions', (f) => f.sessions],
  ['lost', (f) => f.lost],
  ['early DELE', (f) => f.earlyDeletes],
  ['id mismatch', (f) => f.webhookIdMismatches],
  ['duplicates', (f) => f.duplicates],
  ['dup rate', (f) => rate(f.duplicates, f.messages)],
  ['left', (f) => f.leftOnServer],
  ['seconds', (f) => f.seconds],
];

export function formatSummary(seed: number, figures: Figures[]): string {
  const total: Figures = {
    scenario: 'TOTAL',
    seed,
    messages: sum(figures, 'messages'),
    kills: sum(figures, 'kills'),
    faults: sum(figures, 'faults'),
    restarts: sum(figures, 'restarts'),
    sessions: sum(figures, 'sessions'),
    lost: sum(figures, 'lost'),
    earlyDeletes: sum(figures, 'earlyDeletes'),
    webhookIdMismatches: sum(figures, 'webhookIdMismatches'),
    duplicates: sum(figures, 'duplicates'),
    leftOnServer: sum(figures, 'leftOnServer'),
    seconds: sum(figures, 'seconds'),
  };
  const rows = [
    COLUMNS.map(([name]) => name),
    ...[...figures, total].map((f) => COLUMNS.map(([, get]) => String(get(f)))),
  ];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  const verdict =
    total.lost === 0 &&
    total.earlyDeletes === 0 &&
    total.webhookIdMismatches === 0 &&
    total.leftOnServer === 0;
  return [
    `pophook fault suite  FAULT_SEED=${seed}  FAULT_ROUNDS=${ROUNDS}  FAULT_MESSAGES=${MESSAGES}`,
    line(rows[0]!),
    ...rows.slice(1, -1).map(line),
    line(rows.at(-1)!),
    `scenarios run: ${figures.length}  kills: ${total.kills}  other faults: ${total.faults}  messages: ${total.messages}  lost: ${total.lost}  early deletes: ${total.earlyDeletes}  duplicates: ${total.duplicates} (${rate(total.duplicates, total.messages)})`,
    verdict
      ? 'promise held: nothing lost, nothing deleted before its 2xx, one webhook-id per message'
      : 'PROMISE BROKEN: see the rows above',
  ].join('\n');
}

function sum(figures: Figures[], key: Exclude<keyof Figures, 'scenario'>): number {
  return figures.reduce((n, f) => n + f[key], 0);
}

function rate(part: number, whole: number): string {
  return whole === 0 ? '0.00%' : `${((100 * part) / whole).toFixed(2)}%`;
}
