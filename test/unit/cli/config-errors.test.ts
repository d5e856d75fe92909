// A broken configuration as a person sees it on stderr: every problem once, the code once, exit 1.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cli } from '../../helpers/run-cli.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/config/${name}`, import.meta.url));

describe('config problems on stderr', () => {
  it.each(['broken.yml', 'indent-slip.yml.txt'])('%s: each problem line is printed once', async (name) => {
    const { code, stderr } = await cli(['check', '--config', fixture(name)]);
    expect(code).toBe(1);
    const lines = stderr.trimEnd().split('\n');
    expect(lines.filter((line) => line.includes('CONFIG_INVALID'))).toHaveLength(1);
    const problems = lines.filter((line) => line.startsWith('  '));
    expect(problems.length).toBeGreaterThan(0);
    expect(new Set(problems).size).toBe(problems.length);
  });
});
