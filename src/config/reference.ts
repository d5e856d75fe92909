// The README's configuration reference, rendered from the schema so the two cannot drift apart
// (a unit test compares them; `npm run docs:config` prints the table to paste).
import { describeConfigSchema } from './describe.ts';

const cell = (text: string): string => text.replaceAll('|', '\\|');

export function renderConfigReference(): string {
  const rows = describeConfigSchema().map((d) => {
    const fallback = d.default === undefined ? '' : `\`${cell(JSON.stringify(d.default))}\``;
    return `| \`${d.path}\` | ${cell(d.type)} | ${fallback} | ${cell(d.description)} |`;
  });
  return ['| key | type | default | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
