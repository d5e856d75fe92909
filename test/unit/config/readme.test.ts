// The README's configuration reference is the schema's own description, not a hand-kept copy.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderConfigReference } from '../../../src/config/index.ts';

const BEGIN = '<!-- config-reference:begin (npm run docs:config) -->';
const END = '<!-- config-reference:end -->';

describe('README configuration reference', () => {
  it('matches the schema (regenerate with npm run docs:config)', async () => {
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf(BEGIN);
    const end = readme.indexOf(END);
    expect(start).toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(start);
    expect(readme.slice(start + BEGIN.length, end).trim()).toBe(renderConfigReference());
  });
});
