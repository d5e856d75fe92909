// Picks the run's seed (FAULT_SEED replays), hands it and a figures directory to the scenarios, and prints
// the figures table once every scenario has run.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import type { Figures } from './invariants.ts';
import { formatSummary } from './summary.ts';

export default async function setup(project: TestProject) {
  const fromEnv = Number(process.env.FAULT_SEED);
  const seed = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.floor(Math.random() * 2 ** 31);
  const dir = await mkdtemp(join(tmpdir(), 'pophook-fault-figures-'));
  project.provide('faultSeed', seed);
  project.provide('faultFiguresDir', dir);
  process.stdout.write(`\nfault suite: FAULT_SEED=${seed}\n`);
  return async () => {
    const figures: Figures[] = [];
    for (const name of (await readdir(dir)).sort()) {
      figures.push(JSON.parse(await readFile(join(dir, name), 'utf8')) as Figures);
    }
    process.stdout.write(`\n${formatSummary(seed, figures)}\n`);
    await rm(dir, { recursive: true, force: true });
  };
}
