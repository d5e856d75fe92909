// The suite's randomness and knobs. One seed per run (FAULT_SEED replays a run; printed at start and in
// the summary) from which each scenario derives its own, so scenarios stay reproducible one by one.
import { createHash } from 'node:crypto';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    faultSeed: number;
    faultFiguresDir: string;
  }
}

export function runSeed(): number {
  return inject('faultSeed');
}

export function figuresDir(): string {
  return inject('faultFiguresDir');
}

/** A 31-bit seed for one scenario, from the run's seed and the scenario's name. */
export function scenarioSeed(name: string): number {
  const digest = createHash('sha256').update(`${runSeed()}:${name}`).digest();
  return digest.readUInt32BE(0) & 0x7fffffff;
}
