// Runs one scenario in its own world: start, act, let the fleet recover by itself, verify, stop. The
// promise is asserted here once for every scenario, so no scenario can forget a check.
import { expect } from 'vitest';
import { waitUntil } from '../../helpers/wait.ts';
import type { Figures } from './invariants.ts';
import { startWorld, type World, type WorldOptions } from './world.ts';

export async function runScenario(
  options: WorldOptions & { settleMs?: number },
  act: (world: World) => Promise<void>,
): Promise<{ world: World; figures: Figures }> {
  const world = await startWorld(options);
  try {
    await act(world);
    await world.settle(options.settleMs ?? 90_000);
    const figures = await world.verify();
    expect(figures).toMatchObject({ lost: 0, earlyDeletes: 0, webhookIdMismatches: 0, leftOnServer: 0 });
    for (const member of world.fleet.members) expect(member.current.child.exitCode).toBeNull();
    return { world, figures };
  } finally {
    await world.stop();
  }
}

/** Resolves once `predicate` holds, polling every 100 ms; rejects after `timeoutMs`. */
export const until = (what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 60_000) =>
  waitUntil(what, predicate, timeoutMs);

/** Answered 2xx so far. */
export const accepted = (world: World): number =>
  world.receiver.deliveries.filter((d) => d.answered && typeof d.status === 'number' && d.status < 300)
    .length;
