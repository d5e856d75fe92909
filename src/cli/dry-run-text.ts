// The text of `pophook poll --dry-run`: per mailbox, what its next session would delete, fetch and skip,
// with counts and the first few messages of each list (UIDL, size, subject).
import type { DryRunReport, PlannedGroup } from '../mailbox/dry-run.ts';

const LISTS = [
  ['delete', 'would DELE (delivered)'],
  ['fetch', 'would fetch and deliver'],
  ['skip', 'would skip (start point: recorded as seen, left on the server)'],
  ['tooLarge', "over maxMessageSize (by the mailbox's `oversize`: a dead letter, or delivered truncated)"],
] as const;

export function formatDryRun(reports: readonly DryRunReport[]): string {
  const lines: string[] = [];
  for (const report of reports) {
    if (report.outcome === 'locked') {
      lines.push(`${report.mailbox}: a session is running now (mailbox locked); try again`, '');
      continue;
    }
    const start = report.startAt === undefined ? '' : `, start point ${report.startAt} not done yet`;
    lines.push(`${report.mailbox}: ${report.listed} listed${start} (dry run: nothing changed)`);
    for (const [key, label] of LISTS) lines.push(...group(report[key], label));
    if ((report.remaining ?? 0) > 0)
      lines.push(`  ${report.remaining} left for later sessions (batch budget)`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

function group(planned: PlannedGroup | undefined, label: string): string[] {
  if (planned === undefined || planned.count === 0) return [];
  const lines = [`  ${planned.count} ${label}, ${planned.bytes} bytes`];
  for (const m of planned.sample) lines.push(`    ${m.uidl}  ${m.size}  ${m.subject ?? ''}`.trimEnd());
  if (planned.count > planned.sample.length)
    lines.push(`    … and ${planned.count - planned.sample.length} more`);
  return lines;
}
