// TurnBatch: what is added in one turn of the event loop is written once, together; each caller learns
// the outcome of its own batch.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { TurnBatch } from '../../../src/queue/turn-batch.ts';

describe('TurnBatch', () => {
  it('writes the items of one turn in one call, and those of a later turn in another', async () => {
    const writes: number[][] = [];
    const batch = new TurnBatch<number>(async (items) => void writes.push(items));
    const first = [batch.add(1), batch.add(2), batch.add(3)];
    await nextTurn();
    const second = batch.add(4);
    await Promise.all([...first, second]);
    expect(writes).toEqual([[1, 2, 3], [4]]);
  });

  it('rejects every caller of a failed batch, and the next batch starts afresh', async () => {
    let fail = true;
    const batch = new TurnBatch<string>(async () => {
      if (fail) throw new Error('redis down');
    });
    const outcomes = await Promise.allSettled([batch.add('a'), batch.add('b')]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(batch.add('c')).resolves.toBeUndefined();
  });
});
